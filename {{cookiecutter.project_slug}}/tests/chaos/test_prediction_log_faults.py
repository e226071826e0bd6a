"""The prediction log's disk fails during a load test: predictions never do.

The service runs in its own mount namespace (`unshare --mount`) with its log
folder on a tmpfs made for the test: a tiny one that fills up, or a read-only
one. Tests run as root, which ignores file modes, so a mount is the honest way
to refuse writes. The test reads the service's files through /proc/<pid>/root
(its view of the mounts), remounts or frees space to let writing resume, and
checks the books: every prediction answered is either in the log or counted
as dropped in `prediction_log_records_total{outcome="dropped"}`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.monitoring.prediction_log import read_prediction_log
from {{ cookiecutter.package_name }}.probes import free_port, http_json
from {{ cookiecutter.package_name }}.serving.locust import (
    LoadResult,
    load_gate,
    load_loadtest_config,
)
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows
from {{ cookiecutter.package_name }}.serving.process import (
    ServiceProcess,
    scrubbed_environment,
    wait_ready,
)

from ..conftest import PROJECT_DIR, SAMPLE, SETTINGS, build_model_dir, contract

pytestmark = [
    pytest.mark.integration,
    pytest.mark.chaos,
    pytest.mark.skipif(
        shutil.which("unshare") is None or shutil.which("nsenter") is None,
        reason="needs unshare and nsenter (Debian: util-linux)",
    ),
]

LOAD = {"users": 8, "spawn_rate": 8, "duration": "5s", "max_failures": 0, "max_p95_ms": 2000,
        "min_requests": 100}  # fmt: skip
ROWS = sample_rows(SAMPLE, contract(), 20, seed=4)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("model"))


def start_on_a_mount(tmp_path: Path, model_dir: Path, options: str) -> ServiceProcess:
    """The service in a mount namespace whose log folder is a tmpfs mounted with `options`."""
    folder = tmp_path / "logs"
    folder.mkdir()
    port = free_port()
    env = scrubbed_environment(
        {
            "MLOPS_PROJECT_DIR": str(PROJECT_DIR),
            "MLOPS_MODEL_DIR": str(model_dir),
            "MLOPS_PREDICTION_LOG_DIR": str(folder),
        }
    )
    namespace = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        namespace.append("--map-root-user")
    script = 'mount -t tmpfs -o "$1" tmpfs "$2" && shift 2 && exec "$@"'
    package = "{{ cookiecutter.package_name }}"
    serve = [sys.executable, "-m", package, "serve", "--port", str(port)]
    output = (tmp_path / "service.log").open("ab")
    try:
        process = subprocess.Popen(
            [*namespace, "--", "sh", "-c", script, "sh", options, str(folder), *serve],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    finally:
        output.close()
    service = ServiceProcess(process, f"http://127.0.0.1:{port}", tmp_path / "service.log")
    wait_ready(service)
    return service


@pytest.fixture
def running() -> Iterator[list[ServiceProcess]]:
    services: list[ServiceProcess] = []
    yield services
    for service in services:
        service.stop()


def counters(service: ServiceProcess) -> dict[str, float]:
    """Predictions answered, and log records written or dropped, from the service's /metrics."""
    with urllib.request.urlopen(f"{service.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = {"answered": 0.0, "written": 0.0, "dropped": 0.0}
    if match := re.search(r"^predictions_total (\S+)", text, re.MULTILINE):
        found["answered"] = float(match.group(1))
    for outcome in ("written", "dropped"):
        series = re.escape('prediction_log_records_total{outcome="' + outcome + '"}')
        line = "^" + series + r" (\S+)"
        if match := re.search(line, text, re.MULTILINE):
            found[outcome] = float(match.group(1))
    return found


def settled(service: ServiceProcess, timeout: float = 20.0) -> dict[str, float]:
    """Counters once the writer has handled every answered prediction."""
    deadline = time.monotonic() + timeout
    while True:
        now = counters(service)
        if now["written"] + now["dropped"] >= now["answered"] or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


def records_on_disk(service: ServiceProcess, folder: Path) -> int:
    inside = Path(f"/proc/{service.process.pid}/root{folder}")
    return sum(1 for _ in read_prediction_log(inside)) if any(inside.glob("*.jsonl")) else 0


def predict(service: ServiceProcess, count: int) -> None:
    for i in range(count):
        status, _ = http_json(f"{service.url}/predict", ROWS[i % len(ROWS)])
        assert status == 200


def resumed(service: ServiceProcess, before: float, timeout: float = 20.0) -> float:
    """Seconds until the writer wrote again (predictions keep coming meanwhile)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        predict(service, 5)
        if settled(service)["written"] > before:
            return time.monotonic() - started
    raise AssertionError("the prediction log never resumed writing")


def report(name: str, load: LoadResult, books: dict[str, float], recovery: float) -> None:
    summary = load.summary
    lost = books["answered"] - books["written"] - books["dropped"]
    print(
        f"\nchaos {name}: {summary.requests} requests sent, {summary.failures} failed, "
        f"{lost:.0f} lost records ({books['answered']:.0f} predictions: "
        f"{books['written']:.0f} written, {books['dropped']:.0f} dropped and counted); "
        f"writing resumed {recovery:.2f} s after the fault was fixed"
    )


def test_a_full_log_disk_never_fails_a_prediction(
    tmp_path: Path, model_dir: Path, running: list[ServiceProcess]
) -> None:
    service = start_on_a_mount(tmp_path, model_dir, "size=64k")
    running.append(service)
    config = load_loadtest_config(SETTINGS.loadtest_config_path, LOAD)
    load = load_gate(PROJECT_DIR, tmp_path, service.url, config)
    books = settled(service)
    folder = tmp_path / "logs"
    assert load.passed, load.violations  # clients saw no failed request
    assert books["dropped"] > 0  # the disk did fill up
    assert books["written"] + books["dropped"] == books["answered"]  # nothing lost unaccounted
    assert records_on_disk(service, folder) == books["written"]  # whole records only
    log = service.log_tail(200)
    assert log.count("prediction log: cannot write") == 1
    for file in Path(f"/proc/{service.process.pid}/root{folder}").glob("*.jsonl"):
        file.unlink()  # space freed: writing resumes by itself
    recovery = resumed(service, books["written"])
    books = settled(service)
    assert books["written"] + books["dropped"] == books["answered"]
    assert "writing again after" in service.log_tail(200)
    report("log disk full during a load test", load, books, recovery)


def test_a_read_only_log_disk_never_fails_a_prediction(
    tmp_path: Path, model_dir: Path, running: list[ServiceProcess]
) -> None:
    service = start_on_a_mount(tmp_path, model_dir, "ro,size=1m")
    running.append(service)
    config = load_loadtest_config(SETTINGS.loadtest_config_path, LOAD)
    load = load_gate(PROJECT_DIR, tmp_path, service.url, config)
    books = settled(service)
    assert load.passed, load.violations
    assert books["written"] == 0
    assert books["dropped"] == books["answered"] > 0
    assert service.log_tail(200).count("prediction log: cannot write") == 1
    remount = subprocess.run(
        ["nsenter", "-t", str(service.process.pid), "-m", "mount", "-o", "remount,rw",
         str(tmp_path / "logs")],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert remount.returncode == 0, remount.stderr
    recovery = resumed(service, 0)
    books = settled(service)
    assert books["written"] + books["dropped"] == books["answered"]
    assert records_on_disk(service, tmp_path / "logs") == books["written"]
    report("log disk read-only during a load test", load, books, recovery)
