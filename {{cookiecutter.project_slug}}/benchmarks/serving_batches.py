"""Do large batches stall single-row requests? The measurement behind the service's choice.

The service scores one row on its event loop (~0.1 ms) and hands a batch to a
worker thread. This script prints:

1. the work in one 1,000-row batch (parse, validate, score, answer), measured
   in-process: how long it would hold the event loop if it ran there;
2. the latency of single-row requests to a real service process, alone and
   while another client sends 1,000-row batches back to back.

Run it with `uv run python benchmarks/serving_batches.py` (needs a trained model).
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from pathlib import Path

import orjson

from {{ cookiecutter.package_name }}.contract.model import load_contract, training_data_path
from {{ cookiecutter.package_name }}.probes import free_port
from {{ cookiecutter.package_name }}.serving.batch_body import BatchValidator
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows
from {{ cookiecutter.package_name }}.serving.predictor import load_model
from {{ cookiecutter.package_name }}.serving.process import start_service, wait_ready
from {{ cookiecutter.package_name }}.serving.schema import build_validators
from {{ cookiecutter.package_name }}.settings import Settings

SINGLES = 2000


def batch_work_ms(settings: Settings, body: bytes) -> float:
    """Median time of what one batch request costs the process (no HTTP, no prediction log).

    The service's own steps: the column-wise validator, the model fed from the
    columns, the answer serialised by orjson.
    """
    contract = load_contract(settings.contract_path)
    validator = BatchValidator(contract, 1000, build_validators(contract, 1000).batch)
    model = load_model(settings.current_model_dir, contract)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        batch = validator.validate_json(body)
        scores = model.predictor.predict_many(batch.rows, batch.columns)
        answer = zip(batch.ids, scores, strict=True)
        orjson.dumps([{"id": i, "probability": round(s, 6)} for i, s in answer])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def singles(port: int, row: dict[str, object], count: int) -> list[float]:
    """Latencies (ms) of `count` single-row requests, one after the other."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps(row)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        connection.getresponse().read()
        latencies.append((time.perf_counter() - started) * 1000)
    connection.close()
    return latencies


def batches(port: int, body: bytes, stop: threading.Event, sent: list[int]) -> None:
    """Send `body` to /predict/batch back to back until `stop`; count them in `sent`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        connection.request("POST", "/predict/batch", body, {"Content-Type": "application/json"})
        connection.getresponse().read()
        sent[0] += 1
    connection.close()


def describe(latencies: list[float]) -> str:
    """p50, p99 and max of latencies in ms."""
    ordered = sorted(latencies)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms"


def main() -> int:
    """Measure and print."""
    settings = Settings()
    contract = load_contract(settings.contract_path)
    rows = sample_rows(training_data_path(settings, contract), contract, 1000, seed=1)
    body = json.dumps({"rows": rows}).encode()
    print(f"one 1,000-row batch ({len(body) / 1e6:.1f} MB): {batch_work_ms(settings, body):.0f} ms "
          "of work, which would hold the event loop if done there")  # fmt: skip
    port = free_port()
    env = {"MLOPS_PREDICTION_LOG_SAMPLE": "0"}
    service = start_service(settings.project_dir, port, Path("/tmp") / "serving_batches.log", env)
    try:
        wait_ready(service)
        singles(port, rows[0], 200)  # warm-up
        alone = singles(port, rows[0], SINGLES)
        stop, sent = threading.Event(), [0]
        worker = threading.Thread(target=batches, args=(port, body, stop, sent))
        worker.start()
        time.sleep(0.5)
        mixed = singles(port, rows[0], SINGLES)
        stop.set()
        worker.join()
    finally:
        service.stop()
    print(f"single rows alone:                  {describe(alone)}")
    print(f"single rows beside {sent[0]:>4} batches:    {describe(mixed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
