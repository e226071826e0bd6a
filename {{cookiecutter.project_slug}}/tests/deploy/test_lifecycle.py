"""The release lifecycle with a fake platform and clock: the order of steps and every rollback."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.deploy.aws import forward_weights
from {{ cookiecutter.package_name }}.deploy.config import (
    DeployConfigError,
    load_deploy_config,
)
from {{ cookiecutter.package_name }}.deploy.health import (
    HealthLimits,
    Observation,
    judge,
    parse_metrics,
)
from {{ cookiecutter.package_name }}.deploy.lifecycle import (
    Policy,
    Release,
    ReleaseError,
    TrafficStep,
    run_release,
)
from {{ cookiecutter.package_name }}.deploy.nginx import render_config
from {{ cookiecutter.package_name }}.deploy.state import (
    add_history,
    load_state,
    save_state,
)
from {{ cookiecutter.package_name }}.deploy.strategy import (
    deployment_configuration,
    ecs_bake_minutes,
    longest_release_minutes,
    strategy_for,
)
from {{ cookiecutter.package_name }}.errors import DeployError

RELEASE = Release(version="8", source="models/current")


@dataclass
class FakeClock:
    t: float = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class FakePlatform:
    """Records every call; observations come from a function of the call count."""

    observations: list[Observation] = field(default_factory=list)
    fail_ready: bool = False
    front_door_restarts: tuple[str, ...] = ()  # what the guard notes during validation
    fail_shift_at: int | None = None
    steps: list[TrafficStep] | None = None
    calls: list[str] = field(default_factory=list)
    name: str = "fake"
    production_url: str = "http://production"

    def recover(self) -> list[str]:
        return []

    def live_version(self) -> str | None:
        return "7"

    def plan(self, policy: Policy) -> list[TrafficStep]:
        return self.steps if self.steps is not None else policy.plan()

    def start_green(self, release: Release) -> None:
        self.calls.append(f"start {release.version}")

    def wait_green_ready(self, timeout_seconds: float) -> None:
        self.calls.append("ready")
        if self.fail_ready:
            raise ReleaseError("green did not become ready: exited with code 3")

    def route_test_traffic(self) -> str:
        self.calls.append("test route")
        return "http://test"

    @contextmanager
    def front_door_watched(self) -> Iterator[list[str]]:
        self.calls.append("guard on")
        notes: list[str] = []
        yield notes
        notes.extend(self.front_door_restarts)
        self.calls.append("guard off")

    def shift(self, percent: int) -> None:
        if percent == self.fail_shift_at:
            raise OSError("nginx reload failed")
        self.calls.append(f"shift {percent}")

    def observe(self) -> Observation:
        index = sum(c == "observe" for c in self.calls)
        self.calls.append("observe")
        if not self.observations:
            return traffic(index)
        return self.observations[min(index, len(self.observations) - 1)]

    def promote(self) -> None:
        self.calls.append("promote")

    def retire_blue(self) -> None:
        self.calls.append("retire")

    def abort(self, reason: str) -> None:
        self.calls.append(f"abort: {reason}")


def traffic(polls: int, **extra: object) -> Observation:
    """Green's counters after `polls` polls of a steady 25 requests per poll."""
    return Observation(requests=25 * polls, **extra)  # type: ignore[arg-type]


def passing(url: str, release: Release) -> list[str]:
    return []


POLICY = Policy(steps=(10, 50, 100), step_seconds=2, bake_seconds=4, poll_seconds=1)


def release(platform: FakePlatform, validate=passing, policy: Policy = POLICY):  # type: ignore[no-untyped-def]
    return run_release(
        platform, RELEASE, policy=policy, validate=validate, clock=FakeClock(), log=lambda _: None
    )


def test_good_release_walks_every_step_in_order() -> None:
    platform = FakePlatform()
    outcome = release(platform)
    assert outcome.released
    steps = [c for c in platform.calls if c != "observe"]
    assert steps == [
        "start 8", "ready", "test route", "guard on", "guard off",
        "shift 10", "shift 50", "shift 100", "promote", "retire",
    ]  # fmt: skip
    # 2 s at 10 %, 2 s at 50 %, 4 s bake, polled every second, plus one baseline per step
    assert platform.calls.count("observe") == 2 + 1 + 2 + 1 + 4 + 1
    assert {"green ready", "validation", "traffic shift and bake", "retire blue"} <= set(
        outcome.timings
    )


def test_failed_validation_never_shifts_production() -> None:
    platform = FakePlatform()
    outcome = release(platform, validate=lambda url, r: ["/predict answered 500"])
    assert not outcome.released
    assert outcome.reason == "validation failed: /predict answered 500"
    assert not any(c.startswith("shift") for c in platform.calls)
    assert platform.calls[-1] == "abort: validation failed: /predict answered 500"


def test_a_front_door_restarted_during_validation_voids_a_passing_verdict() -> None:
    platform = FakePlatform(front_door_restarts=("nginx died and was restarted",))
    outcome = release(platform)
    assert not outcome.released
    assert outcome.reason == (
        "validation failed: nginx died and was restarted while green was validated: "
        "the verdict is void, deploy again"
    )
    assert platform.calls[-2:] == ["guard off", f"abort: {outcome.reason}"]


def test_green_that_never_gets_ready_is_aborted() -> None:
    platform = FakePlatform(fail_ready=True)
    outcome = release(platform)
    assert not outcome.released
    assert "exited with code 3" in outcome.reason
    assert platform.calls == ["start 8", "ready", f"abort: {outcome.reason}"]


def test_errors_during_a_canary_step_roll_back() -> None:
    bad = Observation(requests=100, errors=9)
    platform = FakePlatform(observations=[Observation(), bad])
    outcome = release(platform)
    assert not outcome.released
    assert outcome.reason.startswith("unhealthy at 10 %: error rate 9/100")
    assert "shift 50" not in platform.calls
    assert "promote" not in platform.calls


def test_an_alarm_during_the_bake_rolls_back() -> None:
    alarm = traffic(7, alarms=("HighLatency",))
    # baseline+2 polls at 10 %, baseline+2 polls at 50 %, baseline at 100 %, then the alarm
    platform = FakePlatform(observations=[traffic(i) for i in range(7)] + [alarm])
    outcome = release(platform)
    assert outcome.reason == "unhealthy at 100 %: alarm: HighLatency"
    assert "shift 100" in platform.calls
    assert "retire" not in platform.calls


def test_a_platform_error_is_a_rollback_with_its_message() -> None:
    platform = FakePlatform(fail_shift_at=50)
    outcome = release(platform)
    assert outcome.reason == "OSError: nginx reload failed"
    assert platform.calls[-1] == "abort: OSError: nginx reload failed"


def test_platform_managed_step_waits_until_settled_or_times_out() -> None:
    settled = traffic(3, settled=True)
    platform = FakePlatform(
        steps=[TrafficStep(100, None)], observations=[traffic(i) for i in range(3)] + [settled]
    )
    assert release(platform).released
    stuck = FakePlatform(steps=[TrafficStep(100, None)])
    policy = Policy(poll_seconds=1, settle_timeout_seconds=5)
    outcome = release(stuck, policy=policy)
    assert outcome.reason == "fake did not finish the 100 % step in 5 s"


def test_a_window_without_enough_requests_is_inconclusive_and_rolls_back() -> None:
    quiet = FakePlatform(observations=[Observation(requests=3)])
    outcome = release(quiet)
    assert not outcome.released
    assert outcome.reason.startswith("inconclusive at 10 %: green served 0 requests")
    assert "fewer than bake.min_requests = 20" in outcome.reason
    assert quiet.calls[-1].startswith("abort: inconclusive")


@dataclass
class CountingProbe:
    """A probe whose answered count grows by `per_call` each time it is read."""

    per_call: int
    answered: int = 0
    started: bool = False
    stopped: bool = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def counts(self) -> tuple[int, int]:
        self.answered += self.per_call
        return self.answered, 0


def test_probe_answers_are_evidence_in_proportion_to_green_share() -> None:
    # The platform counts nothing (cloud metrics lag): the probes must carry the evidence.
    probe = CountingProbe(per_call=100)
    platform = FakePlatform(observations=[Observation()])
    outcome = run_release(
        platform, RELEASE, policy=POLICY, validate=passing, clock=FakeClock(),
        log=lambda _: None, probe=probe,
    )  # fmt: skip
    assert outcome.released, outcome.reason
    assert probe.started
    assert probe.stopped
    few = CountingProbe(per_call=5)  # 10 % of 5 per poll: not enough at the 10 % step
    outcome = run_release(
        FakePlatform(observations=[Observation()]), RELEASE, policy=POLICY, validate=passing,
        clock=FakeClock(), log=lambda _: None, probe=few,
    )  # fmt: skip
    assert outcome.reason.startswith("inconclusive at 10 %")
    assert few.stopped


def test_interrupt_aborts_and_propagates() -> None:
    def interrupted(url: str, r: Release) -> list[str]:
        raise KeyboardInterrupt

    platform = FakePlatform()
    with pytest.raises(KeyboardInterrupt):
        release(platform, validate=interrupted)
    assert platform.calls[-1] == "abort: interrupted"


METRICS = """# HELP http_requests_total HTTP requests
http_requests_total{route="/predict",method="POST",status="200"} 90.0
http_requests_total{route="/predict",method="POST",status="500"} 6.0
http_requests_total{route="/predict/batch",method="POST",status="200"} 4.0
http_requests_total{route="/ready",method="GET",status="503"} 50.0
http_request_duration_seconds_bucket{route="/predict",le="0.01"} 80.0
http_request_duration_seconds_bucket{route="/predict",le="0.1"} 94.0
http_request_duration_seconds_bucket{route="/predict",le="0.5"} 96.0
http_request_duration_seconds_bucket{route="/predict",le="+Inf"} 96.0
http_request_duration_seconds_bucket{route="/ready",le="+Inf"} 50.0
"""


def test_parse_metrics_counts_prediction_routes_only() -> None:
    seen = parse_metrics(METRICS)
    assert (seen.requests, seen.errors) == (100, 6)
    assert seen.buckets[math.inf] == 96.0


def test_judge_uses_the_window_between_observations() -> None:
    before = Observation(requests=1000, errors=0, buckets={0.01: 1000, math.inf: 1000})
    limits = HealthLimits(max_error_rate=0.05, max_p95_ms=50, min_requests=20)
    after = parse_metrics(METRICS)
    window = Observation(
        requests=before.requests + after.requests,
        errors=after.errors,
        buckets={le: before.buckets.get(le, 1000) + n for le, n in after.buckets.items()},
    )
    problems = judge(before, window, limits)
    assert problems == [
        "error rate 6/100 = 6.0% (allowed 5.0%)",
        "p95 latency <= 100 ms over 100 requests (allowed 50 ms)",
    ]
    assert judge(window, window, limits) == []


def test_render_config_weights_and_routes(tmp_path: Path) -> None:
    text = render_config(
        tmp_path,
        production_port=8080,
        test_port=8081,
        production={5001: 90, 5002: 10},
        test=5002,
        colours={5001: "blue", 5002: "green"},
    )
    assert "server 127.0.0.1:5001 weight=90;" in text
    assert "server 127.0.0.1:5002 weight=10;" in text
    assert "listen 127.0.0.1:8080;" in text
    assert "listen 127.0.0.1:8081;" in text
    assert "proxy_next_upstream error timeout http_502 http_503;" in text
    assert "non_idempotent" not in text
    assert "keepalive_timeout 0;" in text
    empty = render_config(
        tmp_path, production_port=8080, test_port=8081, production={}, test=None, colours={}
    )
    assert empty.count("return 503;") == 2
    assert "upstream production" not in empty


def test_ecs_strategy_from_traffic_steps() -> None:
    assert strategy_for([100], 60) == {"strategy": "BLUE_GREEN"}
    assert strategy_for([10, 100], 90)["canaryConfiguration"] == {
        "canaryPercent": 10.0,
        "canaryBakeTimeInMinutes": 2,
    }
    assert strategy_for([25, 50, 75, 100], 30)["linearConfiguration"]["stepPercent"] == 25.0
    with pytest.raises(DeployConfigError, match="no ECS equivalent"):
        strategy_for([10, 50, 100], 60)
    config = deployment_configuration(
        (100,), 10, 10, alarms=["5xx"], alarm_window_minutes=2, hook_timeout_minutes=20
    )
    validation, bake = config["lifecycleHooks"]
    assert validation["targetType"] == bake["targetType"] == "PAUSE"
    assert validation["lifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    assert bake["lifecycleStages"] == ["POST_PRODUCTION_TRAFFIC_SHIFT"]
    assert validation["timeoutConfiguration"] == {"timeoutInMinutes": 20, "action": "ROLLBACK"}
    assert config["alarms"] == {"alarmNames": ["5xx"], "enable": True, "rollback": True}
    # a 10 s bake is not enough for alarms that need 2 minutes of datapoints
    assert config["bakeTimeInMinutes"] == ecs_bake_minutes(10, 2) == 3
    assert ecs_bake_minutes(600, 2) == 10


def test_longest_release_bounds_hooks_steps_and_bake() -> None:
    minutes = longest_release_minutes(
        (25, 100), 5, 10, alarm_window_minutes=2, hook_timeout_minutes=15
    )
    assert minutes == 2 * 15 + 1 + 3 + 15


def test_forward_weights() -> None:
    actions = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": "blue", "Weight": 0},
                    {"TargetGroupArn": "green", "Weight": 100},
                ]
            },
        }
    ]
    assert forward_weights(actions) == {"blue": 0, "green": 100}
    assert forward_weights([{"Type": "forward", "TargetGroupArn": "blue"}]) == {"blue": 1}


def test_deploy_config_is_checked(tmp_path: Path, project_dir: Path) -> None:
    shipped_path = project_dir / "config" / "deploy.yaml"
    for platform in ("local", "aws"):  # the shipped shape suits both platforms
        shipped = load_deploy_config(shipped_path, platform)
        assert shipped.traffic.steps[-1] == 100
    bad = tmp_path / "deploy.yaml"
    bad.write_text("traffic:\n  steps: [50, 10]\n")
    with pytest.raises(DeployConfigError, match=r"traffic\.steps"):
        load_deploy_config(bad)
    bad.write_text("bake:\n  secnds: 3\n")
    with pytest.raises(DeployConfigError, match="secnds"):
        load_deploy_config(bad)
    bad.write_text("traffic:\n  steps: [10, 50, 100]\n")
    assert load_deploy_config(bad, "local").traffic.steps == (10, 50, 100)
    with pytest.raises(DeployConfigError, match=r"on aws: traffic\.steps .* no ECS equivalent"):
        load_deploy_config(bad, "aws")


def test_aws_names_fit_the_load_balancer_limit(tmp_path: Path) -> None:
    config = tmp_path / "deploy.yaml"
    config.write_text("aws:\n  name: a-twenty-one-chars-xy\n")
    assert load_deploy_config(config).aws.prefix("production") == "a-twenty-one-chars-xy-prod"
    config.write_text("aws:\n  name: twenty-two-characters-x\n")
    with pytest.raises(DeployConfigError, match="33 characters: AWS limits"):
        load_deploy_config(config)


def test_state_is_written_atomically_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "state" / "local.json"
    assert load_state(path) == {}
    state: dict[str, object] = {"live": {"colour": "blue"}}
    add_history(state, "released 7")
    save_state(path, state)
    assert load_state(path)["live"] == {"colour": "blue"}
    assert [p.name for p in path.parent.iterdir()] == ["local.json"]
    path.write_text("{half")
    with pytest.raises(DeployError, match="not valid JSON"):
        load_state(path)
