"""The laptop platform: two service processes (blue, green) behind a private nginx on 127.0.0.1.

Layout under the deploy folder (default `deploy/`, setting MLOPS_DEPLOY_DIR):

    state/local.json      live colour, versions, ports, what was in flight (atomic writes)
    state/local.lock      held by the running deploy command (released if it is killed)
    local/nginx/          nginx.conf, pid, logs and temp files of the private nginx
    local/releases/       an immutable copy of each released model folder
    local/logs/           each service process's output

Production traffic enters on `production_port`, test traffic on `test_port`;
both are nginx servers whose upstreams are rewritten and gracefully reloaded
on every switch. Every switch is verified: after the reload, production must
answer from the expected colours and versions (nginx's `X-Colour` header, the
service's `X-Model-Version`), or the release does not go on. Services run in
their own session, so they outlive the command: a deploy killed at any point
leaves nginx and the live colour serving, and the next run's `recover` puts
everything back on a healthy colour. An nginx that died is started again by
the next switch, by the watch during a canary step or the bake, by a rollback
and by the next `deploy` or `deploy rollback`.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.client
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import DeployError, ServiceStartError
from ..layout import METADATA_FILE
from ..probes import free_port
from ..serving.process import ServiceProcess, start_service, wait_ready
from ..settings import Settings
from .config import LocalConfig
from .health import Observation, parse_metrics
from .lifecycle import Policy, Release, ReleaseError, TrafficStep
from .nginx import Nginx, NginxError, render_config
from .processes import service_pids, stop_service
from .state import add_history, load_state, save_state

COLOURS = ("blue", "green")
KEPT_RELEASES = 3
NGINX_RESTARTED = "nginx was not running: restarted"  # the history's note
VERIFY_SECONDS = 10.0  # how long production may take to answer as expected after a reload
GUARD_POLL_SECONDS = 0.1  # how often nginx is looked at while green is validated


@dataclass
class Slot:
    """One colour's service process."""

    colour: str
    version: str
    model_dir: str
    port: int
    fault: str = ""
    started_at: str = ""

    @property
    def url(self) -> str:
        """The service itself, bypassing nginx."""
        return f"http://127.0.0.1:{self.port}"


def _slot(data: Any) -> Slot | None:
    return Slot(**data) if isinstance(data, dict) else None


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _answer_of(port: int) -> tuple[str, str | None] | str:
    """(colour, model version) of one fresh GET /ready on `port`, or what went wrong."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2.0)
    try:
        connection.request("GET", "/ready", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as err:
        return f"{type(err).__name__}: {err}"
    finally:
        connection.close()
    return response.getheader("X-Colour", "-"), response.getheader("X-Model-Version")


def local_state_path(settings: Settings) -> Path:
    """Where the local platform keeps its state (read by `summary` too)."""
    return settings.deploy_dir.resolve() / "state" / "local.json"


class LocalPlatform:
    """Blue/green on this machine; see the module docstring for the layout."""

    name = "local"

    def __init__(
        self,
        settings: Settings,
        config: LocalConfig,
        *,
        log: Callable[[str], None] = print,
        production_port: int | None = None,
        test_port: int | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        """Read the state; nothing is started until a lifecycle method runs."""
        self.settings = settings
        self.ready_timeout = ready_timeout
        self.config = config
        self.log = log
        self.root = settings.deploy_dir.resolve()
        self.state_path = local_state_path(settings)
        self.state = load_state(self.state_path)
        self.state["platform"] = self.name
        self.state["production_port"] = production_port or self.state.get(
            "production_port", config.production_port
        )
        self.state["test_port"] = test_port or self.state.get("test_port", config.test_port)
        self._nginx: Nginx | None = None
        self._green: ServiceProcess | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def production_url(self) -> str:
        """Where users send requests."""
        return f"http://127.0.0.1:{self.state['production_port']}"

    @property
    def test_url(self) -> str:
        """Where validation sends requests (green during a release)."""
        return f"http://127.0.0.1:{self.state['test_port']}"

    @property
    def nginx(self) -> Nginx:
        """The private nginx (the binary is looked up on first use)."""
        if self._nginx is None:
            self._nginx = Nginx(self.root / "local" / "nginx", self.config.nginx)
        return self._nginx

    def _get(self, key: str) -> Slot | None:
        return _slot(self.state.get(key))

    def _set(self, key: str, slot: Slot | None) -> None:
        self.state[key] = asdict(slot) if slot is not None else None

    def _save(self, event: str | None = None) -> None:
        if event:
            add_history(self.state, event)
        save_state(self.state_path, self.state)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One deploy command at a time; the kernel drops the lock if the holder dies."""
        lock_path = self.state_path.with_suffix(".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as err:
                raise DeployError(
                    f"another deploy is running (lock {lock_path}); wait for it to finish"
                ) from err
            yield

    # -- nginx -------------------------------------------------------------------------------

    def _apply(self) -> float:
        """Write nginx.conf from the state, (re)load it and verify production; seconds taken."""
        live, green = self._get("live"), self._get("candidate")
        share = int(self.state.get("green_percent", 0)) if green else 0
        production: dict[int, int] = {}
        if live and share < 100:
            production[live.port] = 100 - share
        if green and share > 0:
            production[green.port] = share
        test_colour = self.state.get("test_colour")
        test = green if green and test_colour == green.colour else live
        slots = [s for s in (live, green, self._get("retiring")) if s]
        text = render_config(
            self.nginx.prefix,
            production_port=self.state["production_port"],
            test_port=self.state["test_port"],
            production=production,
            test=test.port if test else None,
            colours={s.port: s.colour for s in slots},
        )
        seconds = self.nginx.apply(text)
        expected: set[tuple[str, str | None]] = {
            (s.colour, s.version) for s in slots if s.port in production
        }
        self._verify_production(expected or {("-", None)})
        return seconds

    def _verify_production(self, expected: set[tuple[str, str | None]]) -> None:
        """Production answers from an expected (colour, version) twice in a row, or NginxError.

        The old workers of a reload only finish their requests; every new connection
        reaches the new configuration, so two fresh answers tell what production serves.
        """
        deadline = time.monotonic() + VERIFY_SECONDS
        seen: tuple[str, str | None] | str = "nothing"
        good = 0
        while time.monotonic() < deadline:
            seen = _answer_of(self.state["production_port"])
            good = good + 1 if seen in expected else 0
            if good == 2:
                return
            if self.nginx.master_pid() is None:  # killed meanwhile: waiting cannot help
                raise NginxError(f"nginx exited while production was verified ({seen!r})")
            time.sleep(0.05)
        wanted = ", ".join(
            f"{c} {v}" if v else "a 503 (nothing live)" for c, v in sorted(expected, key=str)
        )
        raise NginxError(f"after the nginx reload production answered {seen!r}, expected {wanted}")

    def _restart_dead_nginx(self) -> bool:
        """If nginx died, start it again with the current state; whether it had to.

        Raises:
            NginxError: it could not be started.
        """
        if self.nginx.master_pid() is not None:
            return False
        self._reapply()
        return True

    def _reapply(self) -> float:
        """`_apply` once nginx is known to run (a release's later steps); seconds taken.

        nginx may die between two looks at green (the last one of a step and the next
        reload): `_apply` then starts it again, and the history says so, as when a
        look finds it dead.
        """
        if self.nginx.master_pid() is None:
            self.log("nginx is not running: starting it again")
            self._save(NGINX_RESTARTED)
        return self._apply()

    # -- recovery ----------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Bring back a consistent state after a killed or failed run.

        The live colour is restarted if its process is gone; a half-made green
        loses its traffic and is stopped; a blue that was never retired is; and
        nginx is (re)started with the configuration of the live colour.
        """
        notes = []
        live = self._get("live")
        if live and not service_pids(live.port):
            self._start(live)
            notes.append(f"restarted the live {live.colour} ({live.version}) on :{live.port}")
        green = self._get("candidate")
        retiring = self._get("retiring")
        if green or retiring or live:
            self._set("candidate", None)
            self._set("retiring", None)
            self.state["green_percent"] = 0
            self.state["test_colour"] = live.colour if live else None
            self._save()
            self._apply()
            self.nginx.wait_settled()
            for slot, what in ((green, "half-made green"), (retiring, "unretired blue")):
                if slot is not None:
                    stop_service(slot.port)
                    notes.append(f"stopped the {what} {slot.colour} {slot.version} :{slot.port}")
        if notes:
            self._save("recovered: " + "; ".join(notes))
        return notes

    def live_version(self) -> str | None:
        """Version on the production route."""
        live = self._get("live")
        return live.version if live else None

    def plan(self, policy: Policy) -> list[TrafficStep]:
        """The configured canary steps (the first release goes to 100 % at once)."""
        if self._get("live") is None:
            return [TrafficStep(100, policy.bake_seconds)]
        return policy.plan()

    # -- lifecycle ---------------------------------------------------------------------------

    def _freeze_model(self, source: Path) -> Path:
        """An immutable copy of the model folder: retraining never changes a running release."""
        if not (source / METADATA_FILE).is_file():
            raise DeployError(f"no trained model in {source}: run `make train` first")
        releases = self.root / "local" / "releases"
        target = releases / _tree_digest(source)
        if not target.is_dir():
            staging = releases / f".{target.name}.partial"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(source, staging)
            staging.rename(target)
        return target

    def _prune_releases(self) -> None:
        keep = {Path(s.model_dir).name for s in (self._get("live"), self._get("previous")) if s}
        folders = sorted(
            (p for p in (self.root / "local" / "releases").iterdir() if p.is_dir()),
            key=lambda p: p.stat().st_mtime,
        )
        for folder in folders[:-KEPT_RELEASES]:
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    def _start(self, slot: Slot) -> ServiceProcess:
        slot.started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        logs = self.root / "local" / "logs"
        service = start_service(
            self.settings.project_dir,
            slot.port,
            logs / f"{slot.colour}-{slot.port}.log",
            env={"MLOPS_FAULT": slot.fault},
            model_dir=Path(slot.model_dir),
            detach=True,
        )
        try:
            wait_ready(service, timeout=self.ready_timeout)
        except ServiceStartError as err:
            service.stop()
            raise DeployError(f"could not restart the live {slot.colour}: {err}") from err
        return service

    def start_green(self, release: Release) -> None:
        """Freeze the model, pick the idle colour and a free port, start the service."""
        live = self._get("live")
        colour = COLOURS[1] if live and live.colour == COLOURS[0] else COLOURS[0]
        model_dir = self._freeze_model(Path(release.source))
        green = Slot(colour, release.version, str(model_dir), free_port(), release.fault)
        self._set("candidate", green)
        self.state["phase"] = "starting"
        self._save(f"starting {colour} {release.version} on :{green.port}")
        if self.nginx.master_pid() is None:
            self._apply()  # the production route exists even before the first release
        self._green = start_service(
            self.settings.project_dir,
            green.port,
            self.root / "local" / "logs" / f"{colour}-{green.port}.log",
            env={"MLOPS_FAULT": release.fault},
            model_dir=model_dir,
            detach=True,
        )

    def wait_green_ready(self, timeout_seconds: float) -> None:
        """Poll green's /ready directly; a crash or a timeout fails the release."""
        assert self._green is not None
        try:
            wait_ready(self._green, timeout=timeout_seconds)
        except ServiceStartError as err:
            reason = str(err).splitlines()[0].rstrip(":")
            raise ReleaseError(
                f"green did not become ready: {reason} (log: {self._green.log_path})"
            ) from err

    def route_test_traffic(self) -> str:
        """Point the test route at green."""
        green = self._get("candidate")
        assert green is not None
        self.state["test_colour"] = green.colour
        self._save()
        self._apply()
        self.state["phase"] = "validating"  # only once the test route reaches green
        self._save()
        return self.test_url

    @contextmanager
    def front_door_watched(self) -> Iterator[list[str]]:
        """Restart nginx within GUARD_POLL_SECONDS if it dies during validation.

        The load gate keeps this thread's caller busy for seconds, and production goes
        through the same nginx: without the guard, clients would fail until the
        failed validation's rollback started nginx again.
        """
        notes: list[str] = []
        stop = threading.Event()

        def guard() -> None:
            while not stop.wait(GUARD_POLL_SECONDS):
                try:
                    note = "nginx died and was restarted" if self._restart_dead_nginx() else ""
                except (NginxError, OSError) as err:
                    note = f"nginx died and could not be restarted: {err}"
                if note and note not in notes:
                    notes.append(note)

        thread = threading.Thread(target=guard, name="nginx-guard", daemon=True)
        thread.start()
        try:
            yield notes
        finally:
            stop.set()
            thread.join()

    def shift(self, percent: int) -> None:
        """Production weights: `percent` on green, the rest on blue, by graceful reload."""
        self.state["green_percent"] = percent
        self.state["phase"] = f"{percent} % on green"
        self._save()
        seconds = self._reapply()
        self.log(f"production: {percent} % on green (nginx reload {seconds * 1000:.0f} ms)")

    def observe(self) -> Observation:
        """Green's own counters; a dead or mute green is an alarm."""
        green = self._get("candidate")
        assert green is not None
        try:
            restarted = self._restart_dead_nginx()
        except NginxError as err:
            return Observation(alarms=(f"nginx died and could not be restarted: {err}",))
        if not service_pids(green.port):
            return Observation(alarms=("green's process exited",))
        try:
            with urllib.request.urlopen(f"{green.url}/metrics", timeout=2.0) as response:
                text = response.read().decode()
        except OSError as err:
            return Observation(alarms=(f"green's /metrics did not answer: {err}",))
        return replace(parse_metrics(text), front_door_restarted=restarted)

    def promote(self) -> None:
        """Green becomes live; the old live colour waits to be retired."""
        green, live = self._get("candidate"), self._get("live")
        assert green is not None
        self._set("retiring", live)
        self._set("previous", live)
        self._set("live", green)
        self._set("candidate", None)
        self.state["green_percent"] = 0
        self.state["test_colour"] = green.colour
        self.state["phase"] = "retiring blue"
        self.state["last"] = {"version": green.version, "outcome": "released", "reason": ""}
        self._save(f"released {green.version} ({green.colour}, :{green.port})")
        self._reapply()

    def retire_blue(self) -> None:
        """After nginx's old workers finished and a drain period, SIGTERM blue."""
        retiring = self._get("retiring")
        if retiring is not None:
            self.nginx.wait_settled()
            time.sleep(self.config.drain_seconds)
            stop_service(retiring.port)
            self._set("retiring", None)
        self.state["phase"] = "live"
        self._save(f"retired {retiring.colour} ({retiring.version})" if retiring else None)
        self._prune_releases()

    def abort(self, reason: str) -> None:
        """Production and test routes back to blue, then green stopped.

        Green stays in the state file until its process is gone, so a run killed
        in the middle of a rollback leaves the next run something to clean up.
        """
        green = self._get("candidate")
        live = self._get("live")
        self.state["green_percent"] = 0
        self.state["test_colour"] = live.colour if live else None
        self.state["phase"] = "rolling back"
        self._save()
        if live is not None or self.nginx.master_pid() is not None:
            self._apply()  # production back on blue; starts nginx again if it died
            self.nginx.wait_settled()
        if self._green is not None:
            self._green.stop()
        if green is not None:
            stop_service(green.port)
        version = green.version if green else "?"
        self._set("candidate", None)
        self.state["phase"] = "live" if live else "idle"
        self.state["last"] = {"version": version, "outcome": "rolled back", "reason": reason}
        self._save(f"rolled back {version}: {reason}")

    # -- commands other than a release -------------------------------------------------------

    def previous_release(self) -> Release:
        """The release before the live one, for `deploy rollback`."""
        previous = self._get("previous")
        if previous is None:
            raise DeployError("nothing to roll back to: no earlier release is recorded")
        return Release(previous.version, previous.model_dir, previous.fault)

    def status(self) -> dict[str, Any]:
        """What runs where, for `deploy status`."""
        live = self._get("live")
        nginx_pid = self.nginx.master_pid() if self.state.get("production_port") else None
        return {
            "platform": self.name,
            "production": self.production_url,
            "test": self.test_url,
            "nginx": f"running (pid {nginx_pid})" if nginx_pid else "stopped",
            "live": (
                f"{live.colour} {live.version} on :{live.port} "
                f"({'running' if service_pids(live.port) else 'NOT RUNNING'})"
                if live
                else "nothing"
            ),
            "in flight": self.state.get("candidate"),
            "last": self.state.get("last"),
            "history": self.state.get("history", [])[-5:],
        }

    def stop_all(self) -> list[str]:
        """Stop nginx and every service this platform started."""
        stopped = []
        if self.nginx.master_pid() is not None:
            self.nginx.stop()
            stopped.append("nginx")
        for key in ("candidate", "retiring", "live"):
            slot = self._get(key)
            if slot is not None:
                stop_service(slot.port)
                stopped.append(f"{slot.colour} ({slot.version})")
                self._set(key, None)
        self.state["phase"] = "stopped"
        self._save("stopped " + (", ".join(stopped) or "nothing"))
        return stopped
