"""Faults during a local blue/green release: nginx killed, a rejected config, the deploy killed.

Every test runs while clients send predictions (each with its own id) to the
production port, and ends with: what the clients saw (sent, failed, the outage
window and the time until production answered again), that every prediction
they got is in the prediction log (nothing lost), and that production serves.
nginx is the only front door: while it is dead, clients fail; the tests bound
that window instead of pretending it is zero.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.deploy.nginx import Nginx, NginxError
from {{ cookiecutter.package_name }}.deploy.processes import service_pids

from ..deploy.conftest import ClientLoad, Deployer, listening, model_version_dir

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

# Faults are under test here, not the health limits (tests/deploy tests those): on a
# machine busy with other tests, a 1-second 10 % step may see few requests and latency
# may rise, so a step needs 5 requests to be conclusive and validation's p95 may reach 1 s.
CONFIG = """
traffic: {steps: [10, 50, 100], step_seconds: 1}
bake: {seconds: 3, poll_seconds: 0.25, max_error_rate: 0.01, max_p95_ms: 1000, min_requests: 5}
validation:
  ready_timeout_seconds: 15
  smoke_predictions: 3
  load: {users: 4, spawn_rate: 4, duration: 3s, max_p95_ms: 1000, min_requests: 50}
local: {drain_seconds: 1}
"""
# Four clients, each pausing 20 ms between requests: about 150 requests a second, enough
# for every step's evidence and a failure timed to a few hundredths of a second, at a
# fraction of the CPU of a tighter loop (these tests run beside others in `make test`).
CLIENT_PAUSE_SECONDS = 0.02
OUTAGE_BOUND_SECONDS = 15.0  # clients may fail this long at most after nginx dies
RECOVERY_BOUND_SECONDS = 15.0  # production answers again within this


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {v: model_version_dir(root, v) for v in ("7", "8")}


@pytest.fixture(scope="module")
def deployer(
    tmp_path_factory: pytest.TempPathFactory, models: dict[str, Path]
) -> Iterator[Deployer]:
    deployer = Deployer(tmp_path_factory.mktemp("chaos-deploy"), CONFIG)
    try:
        assert deployer.run("--model-dir", str(models["7"])).returncode == 0
        yield deployer
    finally:
        deployer.run("stop")


def clients(deployer: Deployer) -> ClientLoad:
    """Clients sending predictions to production for the whole test."""
    return ClientLoad(deployer.production_port, threads=4, pause=CLIENT_PAUSE_SECONDS)


def other(deployer: Deployer, models: dict[str, Path]) -> Path:
    """The model folder that is not live: every release below switches versions."""
    return models["8" if deployer.production_version() == "7" else "7"]


def report(name: str, load: ClientLoad, lost: int, outage: float, recovery: float | str) -> None:
    back = recovery if isinstance(recovery, str) else f"production back after {recovery:.2f} s"
    print(
        f"\nchaos {name}: {load.sent} requests sent, {len(load.failure_times)} failed, "
        f"{lost} lost records; outage {outage:.2f} s, {back}"
    )


def kill_nginx(deployer: Deployer, master_only: bool) -> float:
    pids = deployer.nginx_pids()
    assert pids, "nginx is not running"
    for pid in pids[:1] if master_only else pids:
        os.kill(pid, signal.SIGKILL)
    return time.monotonic()


def settle(load: ClientLoad, deployer: Deployer) -> int:
    """Let the writers flush, then count answered predictions missing from the log."""
    time.sleep(1.0)
    return load.lost(deployer.log_dir)


@pytest.mark.parametrize("master_only", [False, True], ids=["master-and-workers", "master-only"])
def test_nginx_killed_during_the_bake_is_restarted_and_the_release_goes_on(
    deployer: Deployer, models: dict[str, Path], master_only: bool
) -> None:
    target = other(deployer, models)
    load = clients(deployer)
    with load.running():
        release = deployer.start("--model-dir", str(target))
        # The bake: the shift to 100 % is done (reloaded and checked), green is watched.
        # Killed during the shift itself, nginx fails the release (a front door that dies
        # while traffic moves is rolled back from): not what this test is about.
        deployer.wait_output("production: 100 % on green (nginx reload")
        time.sleep(0.5)
        killed = kill_nginx(deployer, master_only)
        assert release.wait(timeout=120) == 0, (deployer.root / "deploy.out").read_text()[-3000:]
        time.sleep(1.0)
    outage, recovery = load.outage(killed)
    lost = settle(load, deployer)
    which = "master" if master_only else "master and workers"
    report(f"nginx ({which}) killed in the bake", load, lost, outage, recovery)
    assert deployer.production_version() == target.name.removeprefix("model-")
    assert "nginx was not running: restarted" in str(deployer.state()["history"])
    assert outage < OUTAGE_BOUND_SECONDS
    assert recovery < RECOVERY_BOUND_SECONDS
    assert lost == 0


def test_nginx_killed_during_validation_rolls_back_and_serves_blue(
    deployer: Deployer, models: dict[str, Path]
) -> None:
    live = deployer.production_version()
    load = clients(deployer)
    with load.running():
        release = deployer.start("--model-dir", str(other(deployer, models)))
        deployer.wait_phase("validating")
        time.sleep(0.5)  # the load gate runs against green through nginx
        killed = kill_nginx(deployer, master_only=False)
        code = release.wait(timeout=120)
        time.sleep(1.0)
    outage, recovery = load.outage(killed)
    lost = settle(load, deployer)
    report("nginx killed during validation", load, lost, outage, recovery)
    assert code == 1  # green could not be validated: rolled back, reason given
    last = deployer.state()["last"]
    assert last["outcome"] == "rolled back"  # type: ignore[index]
    # the guard started nginx again at once, and voided the validation it disturbed
    assert "nginx died and was restarted while green was validated" in last["reason"]  # type: ignore[index]
    assert "nginx was not running: restarted" in str(deployer.state()["history"])
    assert deployer.production_version() == live
    assert outage < OUTAGE_BOUND_SECONDS
    assert recovery < RECOVERY_BOUND_SECONDS
    assert lost == 0


def test_a_config_nginx_rejects_never_replaces_the_live_one(deployer: Deployer) -> None:
    nginx = Nginx(deployer.nginx_prefix, "nginx")  # the binary is found when first run
    live_config = nginx.conf.read_text()
    load = clients(deployer)
    with load.running():
        time.sleep(0.5)
        with pytest.raises(NginxError, match="the live one is unchanged"):
            nginx.apply(live_config.replace("proxy_pass", "proxy_passs", 1))
        time.sleep(0.5)
    report("candidate config rejected", load, settle(load, deployer), 0.0, "nothing to recover")
    assert nginx.conf.read_text() == live_config
    assert not nginx.conf.with_name("nginx.conf.candidate").exists()
    assert load.failures == []


def test_a_release_whose_config_nginx_rejects_is_rolled_back_cleanly(
    deployer: Deployer, models: dict[str, Path]
) -> None:
    """A test port nginx cannot listen on: the candidate fails `nginx -t`, production stays.

    The first switch of the run (recovery's, before green starts) meets it: the
    command stops with nginx's reason, nothing was started, production unchanged.
    """
    live = deployer.production_version()
    load = clients(deployer)
    good_port = deployer.test_port
    deployer.test_port = 70000
    try:
        with load.running():
            result = deployer.run("--model-dir", str(other(deployer, models)))
    finally:
        deployer.test_port = good_port
    lost = settle(load, deployer)
    report("release with a rejected config", load, lost, 0.0, "nothing to recover")
    assert result.returncode == 1
    assert "nginx rejected the new configuration, the live one is unchanged" in result.stderr
    assert "invalid port" in result.stderr
    assert load.failures == []
    assert deployer.production_version() == live
    assert deployer.state()["candidate"] is None
    # With a port nginx accepts, the same release goes through (under traffic, as every
    # release here: a 1-second step needs real requests beside the probes to be judged).
    with clients(deployer).running():
        assert deployer.run("--model-dir", str(other(deployer, models))).returncode == 0


STAGES = [
    ("starting", "release"),
    ("validating", "rollback"),
    ("10 % on green", "release"),
    ("50 % on green", "rollback"),
    ("100 % on green", "release"),
    ("retiring blue", "rollback"),
    ("rolling back", "release"),
]


@pytest.mark.parametrize(("stage", "rerun"), STAGES, ids=[s for s, _ in STAGES])
def test_deploy_killed_at_each_stage_then_rerun_leaves_one_healthy_release(
    deployer: Deployer, models: dict[str, Path], stage: str, rerun: str
) -> None:
    target = other(deployer, models)
    fault = ["--fault", "error"] if stage == "rolling back" else []
    ports: set[int] = {deployer.production_port, deployer.test_port}
    load = clients(deployer)
    with load.running():
        release = deployer.start("--model-dir", str(target), *fault)
        deployer.wait_phase(stage, timeout=120)
        release.send_signal(signal.SIGKILL)
        release.wait()
        killed = time.monotonic()
        state = deployer.state()
        ports |= {s["port"] for s in (state.get("live"), state.get("candidate"), state.get(
            "retiring")) if isinstance(s, dict)}  # fmt: skip
        started = time.monotonic()
        again = deployer.run("rollback") if rerun == "rollback" else deployer.run(
            "--model-dir", str(target), "--force")  # fmt: skip
        rerun_seconds = time.monotonic() - started
        time.sleep(0.5)
    outage, _ = load.outage(killed)
    lost = settle(load, deployer)
    recovered = (
        f"production served throughout; the {rerun} rerun recovered in {rerun_seconds:.1f} s"
    )
    report(f"deploy killed at '{stage}'", load, lost, outage, recovered)
    assert again.returncode == 0, again.stdout + again.stderr
    state = deployer.state()
    live = state["live"]
    assert isinstance(live, dict)
    assert state["candidate"] is None
    assert state["retiring"] is None
    assert deployer.production_version() == live["version"]
    # Nothing left behind: only the live colour's service, only the live ports listening.
    for port in ports - {deployer.production_port, deployer.test_port, live["port"]}:
        assert not service_pids(port), f"a service is left on :{port}"
        assert not listening(port), f"something still listens on :{port}"
    assert len(service_pids(live["port"])) == 1
    assert len(deployer.nginx_pids()) >= 2  # one master (and its workers)
    assert load.failures == []
    assert lost == 0
