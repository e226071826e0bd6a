"""The `serve` and `loadtest` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from ..core.loadtest import LoadSummary, LoadThresholds, summarize, violations
from ..io.service_process import ServiceStartError, free_port, start_service, wait_ready
from ..settings import PACKAGE_NAME, Settings

LOCUSTFILE = Path("loadtests/locustfile.py")
LOADTEST_CONFIG = Path("config/loadtest.yaml")


class LoadTestError(RuntimeError):
    """The load test could not run (as opposed to running and failing the gate)."""


def run_serve(host: str, port: int, workers: int) -> int:
    """Serve the current model with uvicorn until SIGTERM/SIGINT (graceful shutdown)."""
    import uvicorn

    uvicorn.run(
        f"{PACKAGE_NAME}.serving.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    return 0


def load_config(path: Path) -> dict[str, Any]:
    """config/loadtest.yaml as a dict (clear error when missing)."""
    if not path.is_file():
        raise LoadTestError(f"load-test configuration not found: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise LoadTestError(f"{path} must be a mapping")
    return data


def run_locust(project_dir: Path, url: str, config: dict[str, Any], out: Path) -> LoadSummary:
    """Headless locust against `url`; exact counts come from its JSON output."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "locust",
        "-f", str(project_dir / LOCUSTFILE),
        "--headless", "--only-summary",
        "-u", str(config.get("users", 16)),
        "-r", str(config.get("spawn_rate", 16)),
        "-t", str(config.get("duration", "10s")),
        "--host", url,
        "--json-file", str(out),
        "--loglevel", "WARNING",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=project_dir, capture_output=True, text=True, check=False)
    json_path = out.with_suffix(".json")
    if not json_path.is_file():
        raise LoadTestError(
            f"locust wrote no results (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return summarize(json.loads(json_path.read_text(encoding="utf-8")))


def thresholds_from(config: dict[str, Any]) -> LoadThresholds:
    """The gate's limits from the configuration."""
    return LoadThresholds(
        max_failures=int(config.get("max_failures", 0)),
        max_p95_ms=float(config.get("max_p95_ms", 100)),
        min_requests=int(config.get("min_requests", 100)),
    )


def print_summary(summary: LoadSummary) -> None:
    """One line a human can read in a CI log."""
    print(
        f"loadtest: {summary.requests} requests in {summary.duration_s:.1f} s "
        f"({summary.rps:.0f}/s), {summary.failures} failed, "
        f"p50 {summary.p50_ms:.0f} ms, p95 {summary.p95_ms:.0f} ms, p99 {summary.p99_ms:.0f} ms"
    )


def gate_url(settings: Settings, url: str, config: dict[str, Any]) -> int:
    """Load `url` and apply the gate; 0 when it passes."""
    reports = settings.path(settings.reports_dir)
    summary = run_locust(settings.project_dir, url, config, reports / "locust")
    print_summary(summary)
    problems = violations(summary, thresholds_from(config))
    (reports / "loadtest.json").write_text(
        json.dumps(
            {"summary": summary.__dict__, "rps": summary.rps, "violations": problems}, indent=2
        )
    )
    if problems:
        print("loadtest: FAILED: " + "; ".join(problems))
        return 1
    print("loadtest: PASSED")
    return 0


def run_loadtest(settings: Settings, url: str | None, duration: str | None) -> int:
    """Against `url`, or against a service started here on the current model and stopped after."""
    config = load_config(settings.path(LOADTEST_CONFIG))
    if duration:
        config["duration"] = duration
    if url:
        return gate_url(settings, url.rstrip("/"), config)
    reports = settings.path(settings.reports_dir)
    service = start_service(settings.project_dir, free_port(), reports / "loadtest-service.log")
    try:
        try:
            wait_ready(service)
        except ServiceStartError as err:
            raise LoadTestError(str(err)) from err
        print(f"loadtest: started the service at {service.url}")
        return gate_url(settings, service.url, config)
    finally:
        service.stop()
