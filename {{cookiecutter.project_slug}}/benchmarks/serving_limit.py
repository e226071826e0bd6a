"""How close the service comes to the framework's limit: a no-op FastAPI endpoint, same server.

In one run on this machine it starts, in turn and twice each:

- the reference: a FastAPI `POST /predict` that awaits the raw body and returns
  a fixed JSON prediction (no model, no validation, no middleware), served by
  uvicorn with the service's own settings;
- the service as `make serve` runs it (every check on: strict contract
  validation, Prometheus metrics, the prediction log, the body guards);

drives each with wrk (2 threads, 16 connections, the same sample row) and
prints requests/s, p50/p99 and the ratio. Then it prints:

- where a request's time goes, timed in-process through the ASGI stack
  (no HTTP): the whole app, and each step of a prediction;
- requests per second of server CPU time with 1 and 2 workers (wrk shares the
  cores, so CPU time, not wall time, says whether a second worker scales);
- start-up: from the process's exec to the first `/ready` 200;
- the batch endpoint's rows/s for batches of 1, 100 and 1,000 rows (goal: 1,000 rows
  at >= 100,000 rows/s, i.e. <= 10 ms a batch; `serving_batches.py` times a batch's
  own work in-process).

A request that fails (a non-2xx answer, a socket error) stops the run with the
server's log: figures of failures would mislead. The prediction log's dropped
records during the batches are printed (a dropped record costs less than a logged one).

Usage: uv run python benchmarks/serving_limit.py [--seconds 8] [--rounds 2]
(`make bench-serving BENCH_SECONDS=8 BENCH_ROUNDS=2`; --seconds also caps each batch
size's run, 3 s by default).
Needs: `make train` first, and wrk (`make system-deps` installs it).
The figures are only as good as the machine is quiet: the load average is
printed beside each.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import Response  # noqa: E402
from serving_throughput import wrk  # noqa: E402

from {{ cookiecutter.package_name }}.contract.model import load_contract, training_data_path  # noqa: E402
from {{ cookiecutter.package_name }}.probes import free_port, status_of  # noqa: E402
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows  # noqa: E402
from {{ cookiecutter.package_name }}.serving.process import (  # noqa: E402
    ServiceProcess,
    scrubbed_environment,
    start_service,
    wait_ready,
)
from {{ cookiecutter.package_name }}.settings import Settings  # noqa: E402

FIXED = b'{"id":null,"probability":0.5,"label":"Yes"}'
CONNECTIONS = 16
BATCH_SIZES = (1, 100, 1000)


def reference_app() -> FastAPI:
    """The framework's limit: read the body, answer fixed JSON; nothing else."""
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        await request.body()
        return Response(FIXED, media_type="application/json")

    @app.get("/ready")
    async def ready() -> Response:
        return Response(b'{"status":"ready"}', media_type="application/json")

    return app


def serve_reference(port: int) -> None:
    """Serve the reference with the uvicorn settings `serve` uses (serving.command.run_serve)."""
    import uvicorn

    settings = Settings()
    uvicorn.run(
        reference_app(),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        timeout_keep_alive=settings.keep_alive_seconds,
    )


def start_reference(port: int, log: Path) -> ServiceProcess:
    """This script again, as the reference server."""
    handle = log.open("ab")
    try:
        process = subprocess.Popen(
            [sys.executable, __file__, "--reference", str(port)],
            cwd=PROJECT,
            env=scrubbed_environment(),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    finally:
        handle.close()
    return ServiceProcess(process, f"http://127.0.0.1:{port}", log)


def load() -> str:
    """The 1-minute load average (other work on the machine skews every figure)."""
    return f"{os.getloadavg()[0]:.2f}"


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's workers are children of its supervisor)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def drive(
    url: str, body: str, seconds: int, work: Path, server: ServiceProcess
) -> dict[str, float]:
    """Drive with wrk at 16 connections; add the server's CPU seconds and the load average."""
    pids = process_tree(server.process.pid)
    before = cpu_seconds(pids)
    result = wrk(url, body, CONNECTIONS, seconds, work, log=server.log_path)
    cpu = cpu_seconds(pids) - before
    requests = result["rps"] * seconds
    result["per_cpu_s"] = requests / cpu if cpu else 0.0
    result["load"] = float(load())
    return result


def throughput(
    settings: Settings, row: dict[str, Any], seconds: int, rounds: int, work: Path
) -> dict[str, list[dict[str, float]]]:
    """Alternate the reference and the service, `rounds` times each."""
    body = json.dumps(row)
    results: dict[str, list[dict[str, float]]] = {"no-op FastAPI": [], "this service": []}
    for _ in range(rounds):
        for name, runs in results.items():
            port = free_port()
            log = work / f"{name.replace(' ', '-')}.log"
            if name == "no-op FastAPI":
                server = start_reference(port, log)
            else:
                server = start_service(settings.project_dir, port, log)
            try:
                wait_ready(server)
                wrk(f"{server.url}/predict", body, CONNECTIONS, 1, work, log=log)  # warm-up
                runs.append(drive(f"{server.url}/predict", body, seconds, work, server))
            finally:
                server.stop()
    return results


def workers_scaling(
    settings: Settings, row: dict[str, Any], seconds: int, work: Path
) -> dict[int, dict[str, float]]:
    """The service with 1 and 2 workers: requests per second of server CPU time."""
    body = json.dumps(row)
    results = {}
    for workers in (1, 2):
        server = start_service(
            settings.project_dir, free_port(), work / f"workers-{workers}.log", workers=workers
        )
        try:
            wait_ready(server)
            wrk(f"{server.url}/predict", body, CONNECTIONS, 1, work, log=server.log_path)
            results[workers] = drive(f"{server.url}/predict", body, seconds, work, server)
        finally:
            server.stop()
    return results


def startup(settings: Settings, work: Path, tries: int = 3) -> list[tuple[float, float]]:
    """Seconds from the exec of `serve` to its first `/ready` 200 (polled every 5 ms).

    With the CPU seconds the process used until then: on a busy machine the wall
    time stretches, its CPU time much less.
    """
    times = []
    for attempt in range(tries):
        port = free_port()
        started = time.monotonic()
        server = start_service(settings.project_dir, port, work / f"startup-{attempt}.log")
        try:
            while status_of(f"{server.url}/ready", timeout=1.0) != 200:
                if server.process.poll() is not None or time.monotonic() - started > 60:
                    raise SystemExit(f"the service did not start:\n{server.log_tail()}")
                time.sleep(0.005)
            times.append((time.monotonic() - started, cpu_seconds([server.process.pid])))
        finally:
            server.stop()
    return times


def dropped_records(metrics: str) -> float:
    """Prediction-log records dropped, from the service's /metrics text (0 when absent)."""
    match = re.search(
        r'^prediction_log_records_total\{outcome="dropped"\} ([0-9.e+]+)$', metrics, re.MULTILINE
    )
    return float(match.group(1)) if match else 0.0


def batches(
    settings: Settings, rows: list[dict[str, Any]], work: Path, seconds: float = 3.0
) -> tuple[dict[int, tuple[float, float]], float]:
    """Rows/s and median latency (ms) of /predict/batch, one client, batches back to back.

    The prediction log is on (as by default): a 1,000-row batch logs 1,000 records.
    Also returns how many records the log dropped (its writer fell behind): those
    rows cost less than a logged one, so the rows/s would flatter the service.
    """
    server = start_service(settings.project_dir, free_port(), work / "batches.log")
    results = {}
    try:
        wait_ready(server)
        port = int(server.url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        for size in BATCH_SIZES:
            body = json.dumps({"rows": rows[:size]})
            latencies = []
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline or len(latencies) < 5:
                began = time.perf_counter()
                connection.request("POST", "/predict/batch", body, headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200:
                    raise SystemExit(
                        f"/predict/batch answered {response.status} to {size} sample rows: "
                        f"{answer[:500].decode(errors='replace')}\n{server.log_tail()}"
                    )
                latencies.append(time.perf_counter() - began)
            rate = size * len(latencies) / sum(latencies)
            results[size] = (rate, statistics.median(latencies) * 1000)
        connection.request("GET", "/metrics")
        dropped = dropped_records(connection.getresponse().read().decode())
        connection.close()
    finally:
        server.stop()
    return results, dropped


async def _asgi_call(app: Any, path: str, body: bytes) -> int:
    """One POST through the ASGI stack, no socket; returns the status."""
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return status


def _cpu_us(step: Callable[[], Any], count: int = 3000) -> float:
    """CPU microseconds per call of `step` (this process, every thread): median of 5 runs.

    CPU time rather than wall time: other work on the machine delays a step but
    does not add to its CPU time, so the breakdown holds on a busy machine.
    """
    runs = []
    for _ in range(5):
        began = time.process_time()
        for _ in range(count):
            step()
        runs.append((time.process_time() - began) / count * 1e6)
    return statistics.median(runs)


def whole_apps(row: dict[str, Any], work: Path) -> list[tuple[str, float]]:
    """CPU microseconds per request through the whole ASGI app: the service, the no-op."""
    from {{ cookiecutter.package_name }}.serving import app as service

    os.environ["MLOPS_PREDICTION_LOG_DIR"] = str(work / "predictions")
    ours = service.app_from_env()
    body = json.dumps(row).encode()
    steps: list[tuple[str, float]] = []

    async def run() -> None:
        async with ours.router.lifespan_context(ours):
            for name, app in (("this service", ours), ("no-op FastAPI", reference_app())):
                assert await _asgi_call(app, "/predict", body) == 200
                runs = []
                for _ in range(5):
                    began = time.process_time()
                    for _ in range(3000):
                        await _asgi_call(app, "/predict", body)
                    runs.append((time.process_time() - began) / 3000 * 1e6)
                steps.append((f"whole ASGI app, {name}", statistics.median(runs)))
            log = ours.state.service.prediction_log
            if log is not None:
                log.flush()

    asyncio.run(run())
    steps.append(("  difference", steps[0][1] - steps[1][1]))
    return steps


def steps_of_a_prediction(settings: Settings, row: dict[str, Any]) -> list[tuple[str, float]]:
    """CPU microseconds of each step of a prediction, timed alone."""
    from {{ cookiecutter.package_name }}.serving import app as service
    from {{ cookiecutter.package_name }}.serving.metrics import ServiceMetrics
    from {{ cookiecutter.package_name }}.serving.predictor import load_model
    from {{ cookiecutter.package_name }}.serving.schema import build_row_model

    body = json.dumps(row).encode()
    contract = load_contract(settings.contract_path)
    row_model = build_row_model(contract)
    predictor = load_model(settings.current_model_dir, contract).predictor
    features = row_model.model_validate_json(body).model_dump(by_alias=True)
    run_directly = predictor._run  # type: ignore[attr-defined]
    feed: dict[str, Any] = {}

    def capture(names: list[str], given: dict[str, Any], options: Any = None) -> Any:
        feed.update({name: array.copy() for name, array in given.items()})  # the built input
        return run_directly(names, given, options)

    predictor._run = capture  # type: ignore[attr-defined]
    predictor.predict([features])
    predictor._run = run_directly  # type: ignore[attr-defined]
    names = [predictor._output]  # type: ignore[attr-defined]
    run = _cpu_us(lambda: run_directly(names, feed, None))
    predict = _cpu_us(lambda: predictor.predict([features]))
    metrics = ServiceMetrics()

    def update_metrics() -> None:  # what one request records
        metrics.in_flight.set(1)
        metrics.scores.observe(0.5)
        metrics.predictions.inc(1)
        metrics.in_flight.set(0)
        metrics.requests.labels("/predict", "POST", "200").inc()
        metrics.latency.labels("/predict").observe(0.001)

    answer = {"id": row.get(contract.id_column), "probability": 0.5, "label": "Yes"}
    log = service.prediction_log_from(settings, contract)
    log.start()
    ident = row.get(contract.id_column)
    unlogged = {k: v for k, v in features.items() if k != contract.id_column}

    def submit() -> None:
        log.submit(unlogged, 0.5, "1", record_id=ident)

    def submit_and_write() -> None:
        for _ in range(1000):
            submit()
        log.flush()

    try:  # what the service validates with (earlier versions: the model, then its dump)
        from {{ cookiecutter.package_name }}.serving.schema import build_validators

        row_validator = build_validators(contract).row
        validate = _cpu_us(lambda: row_validator.validate_json(body))
    except ImportError:
        validate = _cpu_us(lambda: row_model.model_validate_json(body).model_dump(by_alias=True))
    steps = [
        ("  validate the body (contract types, strict)", validate),
        ("  build the ONNX input", predict - run),
        ("  ONNX Runtime: the model itself (its C++ run)", run),
        ("  Prometheus updates (6 per request)", _cpu_us(update_metrics)),
        ("  prediction log: submit + background write", _cpu_us(submit_and_write, 3) / 1000),
        ("  answer: JSON body", _cpu_us(lambda: json.dumps(answer).encode())),
    ]
    log.close()
    return steps


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median of each figure over the rounds."""
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> int:
    """Run everything and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two servers")
    parser.add_argument("--reference", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference:
        serve_reference(args.reference)
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk not found: `make system-deps` installs it (Debian/Ubuntu: apt-get install wrk; "
            "macOS: brew install wrk)"
        )
    settings = Settings(project_dir=PROJECT)
    if not (settings.current_model_dir / "metadata.json").is_file():
        raise SystemExit("no trained model: run `make train` first")
    contract = load_contract(settings.contract_path)
    rows = sample_rows(training_data_path(settings, contract), contract, 1000, seed=3)
    row = next(r for r in rows if all(v is not None for v in r.values()))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["MLOPS_PREDICTION_LOG_DIR"] = str(work / "predictions")  # on, as by default
        print(f"load average before: {load()}  ({os.cpu_count()} cores)")
        results = throughput(settings, row, args.seconds, args.rounds, work)
        print(f"\nPOST /predict, wrk -t2 -c{CONNECTIONS} -d{args.seconds}s, {args.rounds} rounds")
        print(f"{'server':16} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'req/CPU-s':>9} {'load':>5}")  # fmt: skip
        for name, runs in results.items():
            for r in runs:
                print(f"{name:16} {r['rps']:8.0f} {r['p50']:7.2f} {r['p99']:7.2f} "
                      f"{r['per_cpu_s']:9.0f} {r['load']:5.2f}")  # fmt: skip
        ref, ours = summary(results["no-op FastAPI"]), summary(results["this service"])
        print(
            f"ratio (medians): {ours['rps'] / ref['rps']:.0%} of the no-op endpoint's req/s "
            f"(goal >= 50%), p99 {ours['p99']:.2f} ms (goal <= 10 ms); per server CPU second "
            f"{ours['per_cpu_s'] / ref['per_cpu_s']:.0%}"
        )

        print("\nper request, in-process through the ASGI stack (no HTTP), CPU microseconds:")
        for name, micros in whole_apps(row, work) + steps_of_a_prediction(settings, row):
            print(f"  {name:48} {micros:7.1f}")

        scaling = workers_scaling(settings, row, args.seconds, work)
        print("\nworkers (wrk shares the 2 cores: compare requests per server CPU second)")
        for workers, r in scaling.items():
            print(f"  {workers} worker(s): {r['rps']:6.0f} req/s, p99 {r['p99']:.2f} ms, "
                  f"{r['per_cpu_s']:6.0f} req/CPU-s, load {r['load']:.2f}")  # fmt: skip
        print(f"  2 workers per CPU second: {scaling[2]['per_cpu_s'] / scaling[1]['per_cpu_s']:.0%}"
              " of 1 worker's (goal >= 90%)")  # fmt: skip

        times = startup(settings, work)
        shown = ", ".join(f"{wall:.2f} s ({cpu:.2f} CPU-s)" for wall, cpu in times)
        middle = statistics.median(wall for wall, _ in times)
        print(f"\nstart-up, exec to first /ready 200: {shown}; "
              f"median {middle:.2f} s (goal <= 1.5 s), load {load()}")  # fmt: skip

        print("\nPOST /predict/batch, one client, batches back to back")
        by_size, dropped = batches(settings, rows, work, seconds=min(3.0, args.seconds))
        for size, (rows_per_s, median_ms) in by_size.items():
            goal = "  (goal >= 100,000 rows/s)" if size == 1000 else ""
            print(f"  {size:5d} rows: {rows_per_s:9.0f} rows/s, median {median_ms:6.2f} ms/batch"
                  f"{goal}, load {load()}")  # fmt: skip
        behind = " (its writer fell behind: these rows/s flatter the service)" if dropped else ""
        print(f"  prediction log: {dropped:.0f} records dropped{behind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
