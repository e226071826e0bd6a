"""CLI commands of the serving stage: `serve`, `loadtest` and `predict` (batch scoring)."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..commands import Command
from ..errors import LoadTestError, ServiceStartError
from ..layout import LOADTEST_SERVICE_LOG, PREDICTIONS_FILE
from ..probes import free_port
from ..settings import PACKAGE_NAME, Settings
from .locust import load_gate, load_loadtest_config
from .process import start_service, wait_ready
from .workers import MULTIPROCESS_ENV, WorkerSetting, cgroup_cpus, worker_count


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def cpu_limit() -> float | None:
    """This process's cgroup CPU limit (v2, else v1), None when unlimited or unknown."""
    return cgroup_cpus(
        _read("/sys/fs/cgroup/cpu.max"),
        _read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
        _read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
    )


def resolve_workers(setting: WorkerSetting) -> int:
    """A number of workers as is; "auto": one per CPU this process may use (cgroup limit)."""
    if setting != "auto":
        return setting
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere every CPU
    available = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    return worker_count("auto", available, cpu_limit())


@contextlib.contextmanager
def shared_metrics(workers: int, settings: Settings) -> Iterator[Path | None]:
    """With several workers: a fresh folder for their metrics (multiprocess mode), removed after.

    Set before uvicorn starts the workers, which inherit it and read it when
    prometheus_client is first imported. A folder set by the operator
    (PROMETHEUS_MULTIPROC_DIR) is used instead, emptied of old values first.
    """
    if workers <= 1:
        yield None
        return
    given = os.environ.get(MULTIPROCESS_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.db"):
            old.unlink()
        yield directory
        return
    base = settings.workers_metrics_dir or Path(tempfile.gettempdir())
    directory = base / f"{PACKAGE_NAME}-metrics-{socket.gethostname()}-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def run_serve(host: str, port: int, workers: WorkerSetting | None, settings: Settings) -> int:
    """Serve the current model with uvicorn until SIGTERM/SIGINT (graceful shutdown).

    Keep-alive outlasts a load balancer's idle timeout (MLOPS_KEEP_ALIVE_SECONDS,
    75 s against the ALB's 60 s): the balancer closes idle connections first, so it
    never sends a request on one the service is closing (a sporadic 502).
    """
    import uvicorn

    from .app import log_shipper_from

    log_shipper_from(settings, None, os.environ)  # a shipping setting that cannot work: refused now
    count = resolve_workers(settings.workers if workers is None else workers)
    os.environ.setdefault("MLOPS_ADMIN_HOST", host)  # the operator port, if any, listens alike
    with shared_metrics(count, settings):
        uvicorn.run(
            f"{PACKAGE_NAME}.serving.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=count,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=30,
            timeout_keep_alive=settings.keep_alive_seconds,
        )
    return 0


def _workers(value: str) -> WorkerSetting:
    if value == "auto":
        return "auto"
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(f"a number of workers (1, 2, ...) or auto, got {value!r}")


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


def run_predict(
    settings: Settings,
    source: str | None,
    output: str | None,
    *,
    on_error: str,
    chunk_rows: int,
    reader: str,
) -> int:
    """Score a CSV/Parquet file (or an http(s) URL) with the current model; print a summary."""
    from ..contract.model import load_contract, training_data_path
    from .batch import score_file
    from .predictor import load_model

    contract = load_contract(settings.contract_path)
    model = load_model(settings.current_model_dir, contract, threads=os.cpu_count() or 1)
    source = source or str(training_data_path(settings, contract))
    output = output or str(settings.reports_dir / PREDICTIONS_FILE)
    result = score_file(
        source,
        output,
        contract,
        model,
        on_error="skip" if on_error == "skip" else "fail",
        chunk_rows=chunk_rows,
        reader=reader,
    )
    print(
        f"predict: scored {result.rows_scored:,} of {result.rows_in:,} rows with model version "
        f"{model.version} ({model.predictor.kind}) in {result.seconds:.1f} s "
        f"({result.rows_per_second:,.0f} rows/s, {result.reader} reader) -> {result.output}"
    )
    if result.rejected:
        where = f": {result.rejects_file}" if result.rejects_file else ""
        print(f"predict: skipped {result.rejected:,} row(s) that break the data contract{where}")
        for example in result.rejected_examples:
            print(f"  {example}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    return run_serve(args.host, args.port, args.workers, settings)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8000, help="TCP port")
    parser.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="processes: a number, or auto (one per CPU allowed); default MLOPS_WORKERS (1)",
    )


def _loadtest(args: argparse.Namespace, settings: Settings) -> int:
    return run_loadtest(settings, args.url, args.duration)


def _loadtest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=None, help="service to load (default: start one on the current model)"
    )
    parser.add_argument("--duration", default=None, help="run time, e.g. 10s (default: config)")


def _predict(args: argparse.Namespace, settings: Settings) -> int:
    return run_predict(
        settings,
        args.input,
        args.output,
        on_error=args.on_error,
        chunk_rows=args.chunk_rows,
        reader=args.reader,
    )


def _predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input",
        nargs="?",
        default=None,
        help="CSV or Parquet file, or an http(s) URL (default: MLOPS_DATA_PATH)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="CSV or .parquet file, or an http(s) URL to PUT to (default: "
        f"reports/{PREDICTIONS_FILE})",
    )
    parser.add_argument(
        "--on-error",
        choices=["fail", "skip"],
        default="fail",
        help="rows that break the data contract: stop (default) or leave them out, listed "
        "by line in <output>.rejected.csv",
    )
    parser.add_argument(
        "--chunk-rows", type=int, default=65_536, help="rows per chunk (bounds the memory)"
    )
    parser.add_argument(
        "--reader",
        choices=["auto", "arrow", "csv"],
        default="auto",
        help="CSV reader: pyarrow if installed (auto), or the standard library's csv module",
    )


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
    Command(
        "predict",
        "batch-score a CSV/Parquet file with the current model (checked by the contract)",
        _predict,
        _predict_arguments,
    ),
)
