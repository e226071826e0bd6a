"""One release lifecycle for every platform: green, validate, shift, bake, retire, or roll back.

    start green -> wait ready -> test route -> validate (smoke + load gate; front door guarded)
        -> shift production (steps) -> watch each step -> promote -> retire blue
    any failure -> abort: production back on blue, green stopped, reason recorded

While production traffic moves, the release sends its own low-rate probe
traffic (real rows) through the production route, so every canary step and the
bake have evidence; a window in which green served fewer requests than the
minimum is inconclusive, and inconclusive rolls back like a failure.

The order and the failure rule live here once; a `Platform` only knows how to
do each step on its own infrastructure (nginx and processes, or ECS and an
ALB). Nothing here touches a file, a socket or a clock directly, so the
lifecycle is unit-tested with a fake platform and a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from .health import HealthLimits, Observation, judge


class ReleaseError(RuntimeError):
    """Green is not fit for production; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Release:
    """What is being released and what it must report about itself."""

    version: str  # the model version /version must show
    source: str  # a model folder or an image by digest, for humans and the state file
    fault: str = ""  # rehearsal only: MLOPS_FAULT for green
    revision: str = ""  # the git commit /version must show (images carry it)

    @property
    def identity(self) -> str:
        """What tells this release from any other: model version, and commit when known.

        Without a tracking server every fresh CI store registers version "1", so the
        commit is what makes two builds' releases different.
        """
        return f"{self.version}@{self.revision[:12]}" if self.revision else self.version


@dataclass(frozen=True)
class TrafficStep:
    """Production share on green, and how long to watch it (None: until the platform settles)."""

    percent: int
    watch_seconds: float | None


@dataclass(frozen=True)
class Policy:
    """The lifecycle's knobs, from config/deploy.yaml."""

    steps: tuple[int, ...] = (10, 50, 100)
    step_seconds: float = 10.0
    bake_seconds: float = 30.0
    poll_seconds: float = 1.0
    ready_timeout_seconds: float = 60.0
    settle_timeout_seconds: float = 3600.0
    limits: HealthLimits = field(default_factory=HealthLimits)

    def plan(self) -> list[TrafficStep]:
        """Each canary step is watched step_seconds, the last one (100 %) bake_seconds."""
        return [
            TrafficStep(p, self.bake_seconds if p == 100 else self.step_seconds) for p in self.steps
        ]


class Probe(Protocol):
    """Traffic the release sends through the production route while it watches."""

    def start(self) -> None:
        """Begin sending (returns at once)."""
        ...

    def stop(self) -> None:
        """Stop sending and wait for the sender to finish."""
        ...

    def counts(self) -> tuple[int, int]:
        """Cumulative (answered, failed) probe requests so far."""
        ...


class Platform(Protocol):
    """What a platform must do; every method raises ReleaseError for a green-side failure."""

    name: str

    def recover(self) -> list[str]:
        """Repair what an interrupted run left behind; returns what was done."""
        ...

    def live_version(self) -> str | None:
        """The version production traffic is on (None: nothing live)."""
        ...

    def plan(self, policy: Policy) -> list[TrafficStep]:
        """The traffic steps this platform runs (AWS hands the canary to ECS)."""
        ...

    def start_green(self, release: Release) -> None:
        """Launch the new release next to the live one, without production traffic."""
        ...

    def wait_green_ready(self, timeout_seconds: float) -> None:
        """Block until green is ready for test traffic."""
        ...

    def route_test_traffic(self) -> str:
        """Send the test route to green; returns its base URL."""
        ...

    def front_door_watched(self) -> AbstractContextManager[list[str]]:
        """While validation runs: restart a front door that dies; yields a note per restart.

        Production shares the front door with the test route, so a dead one must come
        back at once, not when the failed validation's rollback restarts it.
        """
        ...

    @property
    def production_url(self) -> str:
        """Where production traffic enters (the probes go there)."""
        ...

    def shift(self, percent: int) -> None:
        """Put `percent` of production traffic on green."""
        ...

    def observe(self) -> Observation:
        """Green's cumulative counters, alarms and whether the platform settled."""
        ...

    def promote(self) -> None:
        """Record green as the live colour (blue still runs until retired)."""
        ...

    def retire_blue(self) -> None:
        """Let blue's last requests finish, then stop it."""
        ...

    def abort(self, reason: str) -> None:
        """Production back to blue, green stopped, the reason recorded."""
        ...

    def previous_release(self) -> Release:
        """The release before the live one, for `deploy rollback` (DeployError if none)."""
        ...

    def status(self) -> dict[str, Any]:
        """What runs where, for `deploy status`."""
        ...

    def locked(self) -> AbstractContextManager[None]:
        """Hold the platform's release lock: one release at a time (DeployError if taken)."""
        ...

    def stop_all(self) -> list[str]:
        """Stop everything the platform runs (DeployError where that is not the deploy's job)."""
        ...


Validator = Callable[[str, Release], list[str]]
Log = Callable[[str], None]


@dataclass
class Outcome:
    """How a release ended, with the time spent in each phase."""

    released: bool
    version: str
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)


class Clock(Protocol):
    """Time source; tests pass a fake one."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait."""
        ...


class SystemClock:
    """The real monotonic clock."""

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait."""
        time.sleep(seconds)


def _evidence(
    start: Observation,
    now: Observation,
    probes: tuple[tuple[int, int], tuple[int, int]],
    percent: int,
) -> tuple[int, int]:
    """(requests, errors) green served in the window.

    Its platform's count, or the share of the release's own probes it must have
    answered, whichever is larger (cloud metrics arrive late).
    """
    (answered_0, failed_0), (answered_1, failed_1) = probes
    share = percent / 100
    requests = max(now.requests - start.requests, int((answered_1 - answered_0) * share))
    errors = max(now.errors - start.errors, int((failed_1 - failed_0) * share))
    return requests, errors


def watch(
    platform: Platform,
    step: TrafficStep,
    policy: Policy,
    clock: Clock,
    log: Log,
    *,
    probe: Probe | None = None,
) -> None:
    """Watch green for one step; ReleaseError as soon as it looks unhealthy or proves nothing."""

    def probe_counts() -> tuple[int, int]:
        return probe.counts() if probe is not None else (0, 0)

    start, probes_at_start = platform.observe(), probe_counts()
    started = clock.now()
    limit = step.watch_seconds if step.watch_seconds is not None else policy.settle_timeout_seconds
    now = start
    while True:
        elapsed = clock.now() - started
        if step.watch_seconds is not None and elapsed >= step.watch_seconds:
            break
        if elapsed >= limit:
            raise ReleaseError(
                f"{platform.name} did not finish the {step.percent} % step in {limit:.0f} s"
            )
        clock.sleep(policy.poll_seconds)
        now = platform.observe()
        if now.front_door_restarted:
            # Probes that failed while the front door was down never reached green:
            # their failures are not green's (the answered ones still count).
            probes_at_start = (probes_at_start[0], probe_counts()[1])
            log(f"{step.percent:>3} % on green: front door restarted; probe failures reset")
        problems = judge(start, now, policy.limits)
        requests, errors = _evidence(start, now, (probes_at_start, probe_counts()), step.percent)
        if requests and errors / requests > policy.limits.max_error_rate:
            problems.append(f"probes: {errors} of {requests} failed")
        if problems:
            raise ReleaseError(f"unhealthy at {step.percent} %: " + "; ".join(problems))
        if step.watch_seconds is None and now.settled:
            break
    seen, _ = _evidence(start, now, (probes_at_start, probe_counts()), step.percent)
    elapsed = clock.now() - started
    if seen < policy.limits.min_requests:
        raise ReleaseError(
            f"inconclusive at {step.percent} %: green served {seen} requests in {elapsed:.1f} s, "
            f"fewer than bake.min_requests = {policy.limits.min_requests} (probes plus real "
            "traffic); raise probe.rate_per_second or the step's duration"
        )
    log(f"{step.percent:>3} % on green: healthy for {elapsed:.1f} s ({seen} requests)")


def run_release(
    platform: Platform,
    release: Release,
    *,
    policy: Policy,
    validate: Validator,
    clock: Clock,
    log: Log,
    probe: Probe | None = None,
) -> Outcome:
    """Take `release` live or leave production exactly where it was."""
    outcome = Outcome(released=False, version=release.identity)
    phase_started = clock.now()

    def phase(name: str) -> None:
        nonlocal phase_started
        now = clock.now()
        outcome.timings[name] = now - phase_started
        phase_started = now

    try:
        platform.start_green(release)
        platform.wait_green_ready(policy.ready_timeout_seconds)
        phase("green ready")
        log(f"green {release.version} is ready")
        url = platform.route_test_traffic()
        with platform.front_door_watched() as restarts:
            problems = validate(url, release)
        phase("validation")
        if restarts:
            # Requests failed at the front door, not at green: the verdict proves nothing.
            void = "; ".join(restarts) + " while green was validated: the verdict is void"
            problems = [*problems, f"{void}, deploy again"]
        if problems:
            raise ReleaseError("validation failed: " + "; ".join(problems))
        log(f"validation passed on the test route {url}")
        if probe is not None:
            probe.start()
        try:
            for step in platform.plan(policy):
                shift_started = clock.now()
                platform.shift(step.percent)
                outcome.timings[f"shift to {step.percent} %"] = clock.now() - shift_started
                watch(platform, step, policy, clock, log, probe=probe)
        finally:
            if probe is not None:
                probe.stop()
        phase("traffic shift and bake")
        platform.promote()
    except Exception as err:
        reason = str(err) if isinstance(err, ReleaseError) else f"{type(err).__name__}: {err}"
        log(f"rolling back: {reason}")
        rollback_started = clock.now()
        platform.abort(reason)
        outcome.timings["rollback"] = clock.now() - rollback_started
        outcome.reason = reason
        return outcome
    except BaseException:
        platform.abort("interrupted")
        raise
    platform.retire_blue()
    phase("retire blue")
    outcome.released = True
    return outcome
