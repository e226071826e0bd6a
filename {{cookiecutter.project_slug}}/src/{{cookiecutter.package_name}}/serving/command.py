"""CLI commands of the serving stage: `serve` and `loadtest`."""

from __future__ import annotations

import argparse
import os

from ..commands import Command
from ..errors import LoadTestError, ServiceStartError
from ..layout import LOADTEST_SERVICE_LOG
from ..probes import free_port
from ..settings import PACKAGE_NAME, Settings
from .locust import load_gate, load_loadtest_config
from .process import start_service, wait_ready


def run_serve(host: str, port: int, workers: int, settings: Settings) -> int:
    """Serve the current model with uvicorn until SIGTERM/SIGINT (graceful shutdown).

    Keep-alive outlasts a load balancer's idle timeout (MLOPS_KEEP_ALIVE_SECONDS,
    75 s against the ALB's 60 s): the balancer closes idle connections first, so it
    never sends a request on one the service is closing (a sporadic 502).
    """
    import uvicorn

    os.environ.setdefault("MLOPS_ADMIN_HOST", host)  # the operator port, if any, listens alike
    uvicorn.run(
        f"{PACKAGE_NAME}.serving.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        timeout_keep_alive=settings.keep_alive_seconds,
    )
    return 0


def run_loadtest(settings: Settings, url: str | None, duration: str | None) -> int:
    """Against `url`, or against a service started here on the current model and stopped after."""
    overrides = {"duration": duration} if duration else None
    config = load_loadtest_config(settings.loadtest_config_path, overrides)
    reports = settings.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    if url:
        result = load_gate(settings.project_dir, reports, url.rstrip("/"), config)
        return 0 if result.passed else 1
    service = start_service(settings.project_dir, free_port(), reports / LOADTEST_SERVICE_LOG)
    try:
        try:
            wait_ready(service)
        except ServiceStartError as err:
            raise LoadTestError(str(err)) from err
        print(f"loadtest: started the service at {service.url}")
        result = load_gate(settings.project_dir, reports, service.url, config)
        return 0 if result.passed else 1
    finally:
        service.stop()


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    return run_serve(args.host, args.port, args.workers, settings)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8000, help="TCP port")
    parser.add_argument("--workers", type=int, default=1, help="processes (one per core)")


def _loadtest(args: argparse.Namespace, settings: Settings) -> int:
    return run_loadtest(settings, args.url, args.duration)


def _loadtest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=None, help="service to load (default: start one on the current model)"
    )
    parser.add_argument("--duration", default=None, help="run time, e.g. 10s (default: config)")


COMMANDS = (
    Command(
        "serve",
        "serve the trained model over HTTP (FastAPI + ONNX Runtime)",
        _serve,
        _serve_arguments,
    ),
    Command(
        "loadtest",
        "load-test a service and apply the latency/failure gate",
        _loadtest,
        _loadtest_arguments,
    ),
)
