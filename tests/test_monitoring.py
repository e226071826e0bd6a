"""The generated project's monitoring configuration, checked with the real tools.

promtool (Debian's `prometheus` package) validates the alert rules and the
scrape configuration and runs the rules' unit tests; a real Prometheus on
127.0.0.1 scrapes an exporter that serves the service's metric names and must
return them through its HTTP API; the compose file is validated against the
Compose Specification (and by `docker compose config` where the plugin exists).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import render

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
APT_HINT = "not installed; on Debian/Ubuntu: apt-get install prometheus"
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason=f"promtool {APT_HINT}")
needs_prometheus = pytest.mark.skipif(PROMETHEUS is None, reason=f"prometheus {APT_HINT}")
ALERTS = {
    "ModelServiceDown",
    "HighErrorRate",
    "HighLatencyP99",
    "PredictionScoreShift",
    "NoPredictionTraffic",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("monitoring"))


@pytest.fixture(scope="module")
def monitoring(project: Path) -> Path:
    return project / "infra" / "monitoring"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@needs_promtool
def test_alert_rules_are_valid(monitoring: Path) -> None:
    result = promtool("check", "rules", "alerts.yml", cwd=monitoring)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


@needs_promtool
def test_scrape_config_is_valid(monitoring: Path) -> None:
    result = promtool("check", "config", "prometheus.yml", cwd=monitoring)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


@pytest.mark.slow
@needs_promtool
def test_alert_unit_tests_pass(monitoring: Path) -> None:
    result = promtool("test", "rules", "alerts_test.yml", cwd=monitoring)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.slow
@needs_promtool
@pytest.mark.parametrize(
    ("alert", "original", "mutant"),
    [
        ("HighErrorRate", "> 0.05", "> 0.5"),
        ("NoPredictionTraffic", "[15m])) == 0", "[15m])) == 1"),
    ],
)
def test_alert_unit_tests_catch_a_wrong_threshold(
    monitoring: Path, tmp_path: Path, alert: str, original: str, mutant: str
) -> None:
    rules = (monitoring / "alerts.yml").read_text()
    assert rules.count(original) == 1
    (tmp_path / "alerts.yml").write_text(rules.replace(original, mutant))
    shutil.copyfile(monitoring / "alerts_test.yml", tmp_path / "alerts_test.yml")
    result = promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert alert in result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def exposition() -> bytes:
    """Metrics as the service exposes them, produced with prometheus_client."""
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

    registry = CollectorRegistry()
    requests = Counter(
        "http_requests", "Requests.", ["route", "method", "status"], registry=registry
    )
    duration = Histogram(
        "http_request_duration_seconds", "Request duration.", ["route"], registry=registry
    )
    score = Histogram(
        "prediction_score",
        "Positive-class probability.",
        buckets=[i / 10 for i in range(1, 10)],
        registry=registry,
    )
    info = Gauge(
        "model_info", "Model being served.", ["model_version", "contract"], registry=registry
    )
    requests.labels("/predict", "POST", "200").inc(3)
    duration.labels("/predict").observe(0.012)
    score.observe(0.73)
    info.labels("3", "abc123def456").set(1)
    return generate_latest(registry)


class Exporter(ThreadingHTTPServer):
    body: bytes


class ExporterHandler(BaseHTTPRequestHandler):
    server: Exporter

    def do_GET(self) -> None:
        if self.path != "/metrics":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def exporter() -> Iterator[int]:
    server = Exporter(("127.0.0.1", 0), ExporterHandler)
    server.body = exposition()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def api(port: int, path: str, **query: str) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.slow
@needs_prometheus
def test_prometheus_scrapes_the_service_metrics(
    monitoring: Path, exporter: int, tmp_path: Path
) -> None:
    config = yaml.safe_load((monitoring / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(monitoring / name) for name in config["rule_files"]]
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{exporter}"]}]
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    assert PROMETHEUS is not None
    log = (tmp_path / "prometheus.log").open("w")
    server = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        result: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not result:
            assert server.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
            with contextlib.suppress(OSError):  # not listening yet
                result = api(port, "/api/v1/query", query="model_info")["data"]["result"]
            time.sleep(0.5)
        assert result, (
            "Prometheus never returned model_info:\n"
            + (tmp_path / "prometheus.log").read_text()[-3000:]
        )
        (series,) = result
        assert series["metric"]["model_version"] == "3"
        assert series["metric"]["job"] == "model-service"
        assert series["value"][1] == "1"
        requests = api(port, "/api/v1/query", query="http_requests_total")["data"]["result"]
        assert requests[0]["metric"]["route"] == "/predict"
        groups = api(port, "/api/v1/rules")["data"]["groups"]
        assert {rule["name"] for group in groups for rule in group["rules"]} == ALERTS
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()
    assert server.returncode is not None


def test_compose_file_follows_the_compose_spec(project: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(project / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_refers_to_files_of_the_project(project: Path) -> None:
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())
    assert (project / compose["services"]["service"]["build"] / "Dockerfile").is_file()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and source != "./logs":  # logs/ is created at run time
                assert (project / source).exists(), f"{name} mounts missing {source}"


def docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, check=False
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not docker_compose_available(),
    reason="the docker CLI has no compose plugin here; the file is checked against the spec",
)
def test_docker_compose_accepts_the_file(project: Path) -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", str(project / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
