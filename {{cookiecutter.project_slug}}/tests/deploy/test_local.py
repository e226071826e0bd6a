"""Blue/green on this machine: real nginx, real service processes, real client load.

Every release runs while clients keep sending predictions to the production
port; each test asserts that not one of their requests failed. The deploy
command runs as a subprocess, as `make deploy-local` runs it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.deploy.processes import service_pids

from ..conftest import PROJECT_DIR
from .conftest import ClientLoad, Deployer, listening, model_version_dir

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {v: model_version_dir(root, v) for v in ("7", "8", "9", "10")}


@pytest.fixture(scope="module")
def deployer(
    tmp_path_factory: pytest.TempPathFactory, models: dict[str, Path]
) -> Iterator[Deployer]:
    deployer = Deployer(tmp_path_factory.mktemp("deploy"))
    try:
        first = deployer.run("--model-dir", str(models["7"]))
        assert first.returncode == 0, first.stdout + first.stderr
        assert deployer.production_version() == "7"
        yield deployer
    finally:
        state = deployer.state()
        ports = [deployer.production_port, deployer.test_port]
        ports += [
            s["port"] for s in (state.get("live"), state.get("candidate")) if isinstance(s, dict)
        ]
        stopped = deployer.run("stop")
        assert stopped.returncode == 0
        # Nothing left running: no service process, no listening port, no nginx.
        assert all(not service_pids(port) for port in ports)
        assert not any(listening(port) for port in ports)
        pid_file = deployer.root / "deploy" / "local" / "nginx" / "nginx.pid"
        assert not pid_file.exists()


def switch_window(load: ClientLoad, old: str, new: str) -> tuple[float, int]:
    """Client-observed switch: first answer from `new` to last answer from `old`."""
    seen = load.versions()
    first_new = min(t for t, v in seen if v == new)
    last_old = max(t for t, v in seen if v == old)
    during = sum(1 for a in load.answers if first_new <= a.at <= last_old)
    return max(0.0, last_old - first_new), during


def test_good_release_goes_live_under_load_with_zero_failures(
    deployer: Deployer, models: dict[str, Path]
) -> None:
    load = ClientLoad(deployer.production_port, threads=4)
    with load.running():
        time.sleep(1.0)
        result = deployer.run("--model-dir", str(models["8"]))
        time.sleep(0.5)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RELEASED 8" in result.stdout
    assert load.failures == []
    assert deployer.production_version() == "8"
    seconds, during = switch_window(load, "7", "8")
    print(
        f"\nswitch 7 -> 8: {len(load.answers)} requests, 0 failed; canary 10/50/100 % took "
        f"{seconds:.2f} s client-side, {during} requests answered during it"
    )
    state = deployer.state()
    assert state["live"]["version"] == "8"  # type: ignore[index]
    assert state["candidate"] is None
    assert not service_pids(state["previous"]["port"])  # type: ignore[index]  # blue retired


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("crash", "green did not become ready: the service exited"),
        ("never-ready", "green did not become ready: the service was not ready after 8 s"),
        ("error", "validation failed: /predict answered 500"),
        # 1.5 s per answer fails the load gate on p95, or (on a starved machine, where
        # locust's users finish few requests) on too few requests: either way, rolled back.
        ("slow:1500", "validation failed: load gate: (p95|only \\d+ requests)"),
    ],
)
def test_faulty_release_is_rolled_back_with_zero_failures(
    deployer: Deployer, models: dict[str, Path], fault: str, reason: str
) -> None:
    live = deployer.production_version()
    load = ClientLoad(deployer.production_port, threads=4)
    with load.running():
        started = time.monotonic()
        result = deployer.run("--model-dir", str(models["9"]), "--fault", fault)
        elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(f"ROLLED BACK 9: {reason}", result.stdout), result.stdout
    assert load.failures == []
    assert {a.colour for a in load.answers} == {deployer.state()["live"]["colour"]}  # type: ignore[index]
    assert deployer.production_version() == live
    state = deployer.state()
    assert state["candidate"] is None
    assert state["last"]["outcome"] == "rolled back"  # type: ignore[index]
    rollback = next(line for line in result.stdout.splitlines() if "rollback " in line)
    print(
        f"\n{fault}: rolled back, {len(load.answers)} requests, 0 failed; {rollback.strip()}; "
        f"whole release attempt {elapsed:.1f} s"
    )


def test_killed_deploy_leaves_a_healthy_colour_and_a_rerun_recovers(
    deployer: Deployer, models: dict[str, Path]
) -> None:
    live = deployer.production_version()
    load = ClientLoad(deployer.production_port, threads=4)
    with load.running():
        process = subprocess.Popen(
            deployer.command("--model-dir", str(models["10"])),
            cwd=PROJECT_DIR,
            env=deployer.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while deployer.state().get("phase") != "validating" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert deployer.state().get("phase") == "validating"
        time.sleep(0.5)  # the load gate is running against green
        process.send_signal(signal.SIGKILL)
        process.wait()
        half_made = deployer.state()["candidate"]
        assert isinstance(half_made, dict)
        assert service_pids(half_made["port"])
        time.sleep(1.0)
        assert deployer.production_version() == live
    assert load.failures == []
    load = ClientLoad(deployer.production_port, threads=4)
    with load.running():
        rerun = deployer.run("--model-dir", str(models["10"]))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "recovered: stopped the half-made green" in rerun.stdout
    assert "RELEASED 10" in rerun.stdout
    assert load.failures == []
    assert deployer.production_version() == "10"
    assert not service_pids(half_made["port"])


def test_rerun_after_a_crash_restarts_the_live_colour(
    deployer: Deployer, models: dict[str, Path]
) -> None:
    live = deployer.state()["live"]
    assert isinstance(live, dict)
    nginx_pid = int((deployer.root / "deploy" / "local" / "nginx" / "nginx.pid").read_text())
    os.kill(nginx_pid, signal.SIGQUIT)  # as after a reboot: nothing runs any more
    for pid in service_pids(live["port"]):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while (service_pids(live["port"]) or listening(deployer.production_port)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert deployer.production_version() is None
    result = deployer.run("--model-dir", str(models[live["version"]]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"recovered: restarted the live {live['colour']}" in result.stdout
    assert f"{live['version']} is already live" in result.stdout
    assert deployer.production_version() == live["version"]


def test_rollback_command_restores_the_previous_release(deployer: Deployer) -> None:
    previous = deployer.state()["previous"]["version"]  # type: ignore[index]
    load = ClientLoad(deployer.production_port, threads=2)
    with load.running():
        result = deployer.run("rollback")
    assert result.returncode == 0, result.stdout + result.stderr
    assert load.failures == []
    assert deployer.production_version() == previous
    status = deployer.run("status")
    assert '"live": "' in status.stdout
    assert "(running)" in status.stdout
