"""The service as users run it: a real process on 127.0.0.1, real HTTP, real load."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.probes import free_port, http_json, status_of
from {{ cookiecutter.package_name }}.serving.locust import (
    LoadTestConfig,
    load_gate,
    load_loadtest_config,
)
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows
from {{ cookiecutter.package_name }}.serving.process import (
    ServiceProcess,
    start_service,
    wait_ready,
)

from ..conftest import PROJECT_DIR, SAMPLE, SETTINGS, build_model_dir, contract, system_tool

pytestmark = pytest.mark.integration

ROW = sample_rows(SAMPLE, contract(), 1, seed=5)[0]
QUICK_LOAD = {
    "users": 8,
    "spawn_rate": 8,
    "duration": "3s",
    "max_failures": 0,
    "max_p95_ms": 100,
    "min_requests": 50,
}


def quick_load() -> LoadTestConfig:
    """The project's load-test config with a short, light run (as a release overrides it)."""
    return load_loadtest_config(SETTINGS.loadtest_config_path, QUICK_LOAD)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("model"))


def launch(tmp_path: Path, model_dir: Path, **env: str) -> ServiceProcess:
    service = start_service(
        PROJECT_DIR, free_port(), tmp_path / "service.log", env=env, model_dir=model_dir
    )
    return service


@pytest.fixture
def service(tmp_path: Path, model_dir: Path) -> Iterator[ServiceProcess]:
    running = launch(tmp_path, model_dir)
    try:
        wait_ready(running)
        yield running
    finally:
        running.stop()
    assert running.process.poll() is not None


def test_real_process_predicts(service: ServiceProcess) -> None:
    status, body = http_json(f"{service.url}/predict", ROW)
    assert status == 200
    assert 0 <= body["probability"] <= 1
    status, version = http_json(f"{service.url}/version")
    assert version["predictor"] == "onnx"


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path, model_dir: Path) -> None:
    slow = launch(tmp_path, model_dir, MLOPS_FAULT="slow:1500")
    try:
        wait_ready(slow)
        result: dict[str, object] = {}

        def call() -> None:
            result["status"], result["body"] = http_json(f"{slow.url}/predict", ROW, timeout=10)

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)  # the request is now being served
        slow.stop(timeout=15)
        caller.join(timeout=10)
        assert result.get("status") == 200
        assert slow.process.returncode in (0, -15)  # uvicorn re-raises SIGTERM after draining
    finally:
        slow.stop()


def test_schemathesis_every_check_passes(service: ServiceProcess, tmp_path: Path) -> None:
    """Every endpoint, every schemathesis check: no 5xx, only declared statuses, strict types.

    Covers what the conformance review found: undeclared methods answer 405 (not 415),
    `true` is not an integer, a batch over the row limit gets a declared status.
    """
    har = tmp_path / "schemathesis.har"
    result = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{service.url}/openapi.json",
            "--checks", "all",
            "--max-examples", "300",
            "--seed", "1",
            "--report", "har", "--report-har-path", str(har),
            "--no-color",
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = [entry["response"]["status"] for entry in entries]
    print(f"schemathesis --checks all: {len(statuses)} requests, statuses {sorted(set(statuses))}")
    assert len(statuses) >= 500
    assert all(status < 500 for status in statuses)


def test_drift_reads_every_prediction_that_several_processes_answered(
    tmp_path: Path, model_dir: Path
) -> None:
    """Blue, green, a load-test service, several workers: one log folder, one file per process."""
    log = tmp_path / "predictions"
    env = {"MLOPS_PREDICTION_LOG_DIR": str(log)}
    rows = sample_rows(SAMPLE, contract(), 40, seed=9)
    services = [
        start_service(PROJECT_DIR, free_port(), tmp_path / "one.log", env, model_dir),
        start_service(PROJECT_DIR, free_port(), tmp_path / "two.log", env, model_dir, workers=2),
    ]
    answered = 0
    try:
        for service in services:
            wait_ready(service)
        for i, row in enumerate(rows):
            for service in services:
                status, _ = http_json(f"{service.url}/predict", row)
                answered += status == 200
                if i % 10 == 0:
                    status, body = http_json(f"{service.url}/predict/batch", {"rows": rows[:7]})
                    answered += len(body["predictions"]) if status == 200 else 0
    finally:
        for service in services:
            service.stop()  # SIGTERM: each process writes what it still holds, then exits
    files = sorted(log.glob("*.jsonl"))
    writers = {f.name.rsplit("-", 1)[0] for f in files}
    assert len(writers) == len(files) >= 2  # one file per process (one per worker)
    report = tmp_path / "reports"
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", "drift"],
        cwd=PROJECT_DIR,
        env={**os.environ, **env, "MLOPS_REPORTS_DIR": str(report)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    current = json.loads((report / "drift.json").read_text())["current"]
    print(f"answered {answered} predictions in 3 processes; drift read {current['rows']}")
    assert current["rows"] == answered
    assert current["source"].startswith(f"prediction log {log} ({len(files)} files")


def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes under `pid` (spawned by multiprocessing), from /proc."""
    workers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                spawned = b"spawn_main" in (entry / "cmdline").read_bytes()
                if spawned and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    workers.append(int(entry.name))
    return workers


def _samples(url: str, *names: str) -> dict[str, list[str]]:
    """Lines of /metrics for each metric name (one scrape)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {n: [ln for ln in text.splitlines() if ln.startswith(n)] for n in names}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc")
def test_two_workers_answer_the_sum_of_their_metrics(tmp_path: Path, model_dir: Path) -> None:
    """`serve --workers 2`: any worker's /metrics counts every worker's predictions, once."""
    shared = tmp_path / "metrics"
    service = start_service(
        PROJECT_DIR,
        free_port(),
        tmp_path / "service.log",
        {"MLOPS_WORKERS_METRICS_DIR": str(shared)},
        model_dir,
        workers=2,
    )
    try:
        wait_ready(service)
        deadline = time.monotonic() + 30
        while len(_workers(service.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _workers(service.process.pid)
        assert len(workers) == 2, service.log_tail()
        # The kernel hands each new connection to whichever worker accepts first, which
        # may be the same one many times: send 8 at once until both have answered some.
        sent = 0

        def answered_by() -> set[int]:
            folders = list(shared.iterdir())
            files = folders[0].glob("counter_*.db") if folders else []
            return {int(p.stem.rsplit("_", 1)[1]) for p in files}

        with ThreadPoolExecutor(max_workers=8) as pool:
            while answered_by() != set(workers) and sent < 2_000:
                codes = pool.map(lambda _: http_json(f"{service.url}/predict", ROW)[0], range(8))
                assert set(codes) == {200}
                sent += 8
        assert answered_by() == set(workers), f"one worker answered all {sent} requests"
        folder = next(shared.iterdir())
        names = ("predictions_total", "model_info", "http_requests_in_flight")
        for _ in range(6):  # whichever worker answers the scrape
            found = _samples(service.url, *names)
            assert found["predictions_total"] == [f"predictions_total {sent}.0"]
            assert len(found["model_info"]) == 1  # one series, not one per worker
            assert found["model_info"][0].endswith(" 1.0")
            assert found["http_requests_in_flight"] == ["http_requests_in_flight 0.0"]
        os.kill(workers[0], signal.SIGKILL)  # uvicorn starts another worker
        deadline = time.monotonic() + 30
        while workers[0] in _workers(service.process.pid) or len(_workers(service.process.pid)) < 2:
            assert time.monotonic() < deadline, service.log_tail()
            time.sleep(0.1)
        wait_ready(service)
        found = _samples(service.url, *names)
        # a counter never drops
        assert found["predictions_total"] == [f"predictions_total {sent}.0"]
        assert len(found["model_info"]) == 1
        assert not list(folder.glob(f"gauge_live*_{workers[0]}.db"))  # its gauges forgotten
    finally:
        service.stop()
    assert not list(shared.iterdir())  # the folder goes with the service


def test_the_operator_endpoints_move_to_their_own_port(tmp_path: Path, model_dir: Path) -> None:
    admin = free_port()
    service = launch(tmp_path, model_dir, MLOPS_ADMIN_PORT=str(admin))
    try:
        wait_ready(service)
        for path in ("/metrics", "/version", "/docs", "/openapi.json"):
            assert status_of(f"{service.url}{path}") == 404, path
            assert status_of(f"http://127.0.0.1:{admin}{path}") == 200, path
        assert http_json(f"{service.url}/predict", ROW)[0] == 200
    finally:
        service.stop()


def test_docs_off_in_production(tmp_path: Path, model_dir: Path) -> None:
    service = launch(tmp_path, model_dir, MLOPS_DOCS="false", MLOPS_METRICS="false")
    try:
        wait_ready(service)
        assert [status_of(f"{service.url}{p}") for p in ("/docs", "/openapi.json", "/metrics")] == [
            404,
            404,
            404,
        ]
    finally:
        service.stop()


def test_idle_connections_live_as_long_as_the_keep_alive_setting(
    tmp_path: Path, model_dir: Path
) -> None:
    """MLOPS_KEEP_ALIVE_SECONDS reaches uvicorn (75 s by default, above an ALB's 60 s idle)."""
    service = launch(tmp_path, model_dir, MLOPS_KEEP_ALIVE_SECONDS="2")
    try:
        wait_ready(service)
        connection = http.client.HTTPConnection("127.0.0.1", int(service.url.rsplit(":", 1)[1]))

        def health() -> int:
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            return response.status

        for pause in (1.0, 3.5):
            assert health() == 200  # the second one after 1 s idle: the same connection
            time.sleep(pause)
        with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
            health()  # idle 3.5 s > 2 s: the service closed it
        connection.close()
    finally:
        service.stop()


def test_the_service_does_not_inherit_credentials(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-the-service")
    monkeypatch.setenv("GITHUB_TOKEN", "not-for-the-service")
    service = launch(tmp_path, model_dir)
    try:
        wait_ready(service)
        environ = Path(f"/proc/{service.process.pid}/environ").read_bytes().split(b"\0")
        names = {entry.split(b"=", 1)[0].decode() for entry in environ if entry}
    finally:
        service.stop()
    assert "AWS_SECRET_ACCESS_KEY" not in names
    assert "GITHUB_TOKEN" not in names
    assert "MLOPS_PROJECT_DIR" in names


def test_load_gate_passes_on_a_healthy_service(service: ServiceProcess, tmp_path: Path) -> None:
    result = load_gate(PROJECT_DIR, tmp_path, service.url, quick_load())
    assert result.passed, result.violations
    assert result.summary.failures == 0


@pytest.mark.parametrize("fault", ["slow:250", "error"])
def test_load_gate_fails_on_a_bad_service(
    tmp_path: Path, model_dir: Path, fault: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = launch(tmp_path, model_dir, MLOPS_FAULT=fault)
    try:
        wait_ready(bad)
        result = load_gate(PROJECT_DIR, tmp_path, bad.url, quick_load())
        assert not result.passed
    finally:
        bad.stop()
    out = capsys.readouterr().out
    assert "loadtest: FAILED" in out
    expected = "p95" if fault.startswith("slow") else "failed requests"
    assert any(expected in violation for violation in result.violations), result.violations


def test_prometheus_scrapes_the_real_service(service: ServiceProcess, tmp_path: Path) -> None:
    """infra/monitoring's scrape config and rules, pointed at the running service."""
    prometheus = system_tool("prometheus")
    for _ in range(3):
        http_json(f"{service.url}/predict", ROW)
    monitoring = PROJECT_DIR / "infra" / "monitoring"
    config = yaml.safe_load((monitoring / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(monitoring / name) for name in config["rule_files"]]
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [service.url.removeprefix("http://")]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    server = subprocess.Popen(
        [
            prometheus,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        query = f"http://127.0.0.1:{port}/api/v1/query?query="
        result: list[dict[str, object]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not result:
            assert server.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
            with contextlib.suppress(OSError):
                result = http_json(query + "model_info", timeout=2)[1]["data"]["result"]
            time.sleep(0.5)
        assert result, (
            "Prometheus never saw model_info:\n" + (tmp_path / "prometheus.log").read_text()[-2000:]
        )
        assert result[0]["metric"]["model_version"] == "7"  # type: ignore[index]
        selector = urllib.parse.quote('http_requests_total{route="/predict",status="200"}')
        requests = http_json(query + selector, timeout=2)[1]["data"]["result"]
        assert float(requests[0]["value"][1]) >= 3
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
