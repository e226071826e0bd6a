"""The prediction log's way to S3 and back, as on ECS: the real service ships its files to
S3 (moto in server mode), SIGTERM ships the last one, and `fetch-predictions` brings them
back for `drift`. With S3 unreachable, predictions are neither slowed nor failed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from {{ cookiecutter.package_name }}.monitoring.prediction_log import read_prediction_log
from {{ cookiecutter.package_name }}.probes import free_port, http_json
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows
from {{ cookiecutter.package_name }}.serving.process import (
    ServiceProcess,
    start_service,
    wait_ready,
)

from ..conftest import PROJECT_DIR, SAMPLE, build_model_dir, contract

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
BUCKET = "mlops-predictions-123456789012-eu-west-1"  # registry.yaml's pattern, aws.name "mlops"
PREFIX = "production/"
DUMMY_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
ROWS = sample_rows(SAMPLE, contract(), 40, seed=11)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture
def s3(moto_url: str) -> Any:
    client = boto3.client("s3", endpoint_url=moto_url, region_name=REGION, **_boto_keys())
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def _boto_keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def keys_under(s3: Any, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def shipping_service(
    tmp_path: Path, model_dir: Path, endpoint: str, log: Path, ship_seconds: str
) -> ServiceProcess:
    env = {
        "MLOPS_PREDICTION_LOG_DIR": str(log),
        "MLOPS_PREDICTION_LOG_S3_URI": f"s3://{BUCKET}/{PREFIX}",
        "MLOPS_PREDICTION_LOG_SHIP_SECONDS": ship_seconds,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_REGION": REGION,
        **DUMMY_KEYS,
    }
    service = start_service(PROJECT_DIR, free_port(), tmp_path / "service.log", env, model_dir)
    wait_ready(service)
    return service


def predict(service: ServiceProcess, rows: list[dict[str, Any]]) -> tuple[int, list[float]]:
    """Send each row (and every tenth time a batch of 5); (predictions answered, latencies)."""
    answered, latencies = 0, []
    for i, row in enumerate(rows):
        started = time.perf_counter()
        status, _ = http_json(f"{service.url}/predict", row)
        latencies.append(time.perf_counter() - started)
        answered += status == 200
        if i % 10 == 0:
            status, body = http_json(f"{service.url}/predict/batch", {"rows": rows[:5]})
            answered += len(body["predictions"]) if status == 200 else 0
    return answered, latencies


def metric(service: ServiceProcess, line_start: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{service.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    (line,) = [ln for ln in text.splitlines() if ln.startswith(line_start)]
    return float(line.rsplit(" ", 1)[1])


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_service_ships_its_log_and_fetch_predictions_brings_it_back(
    tmp_path: Path, model_dir: Path, moto_url: str, s3: Any
) -> None:
    log = tmp_path / "log"
    service = shipping_service(tmp_path, model_dir, moto_url, log, ship_seconds="1")
    try:
        answered, _ = predict(service, ROWS[:20])
        wait_for(lambda: keys_under(s3, PREFIX))  # an interval passed: the first file is up
        uploaded = 'prediction_log_uploads_total{outcome="uploaded"}'
        assert metric(service, uploaded) >= 1
        more, _ = predict(service, ROWS[20:])
        answered += more
    finally:
        service.stop()  # SIGTERM: the last records are written, their file shipped
    assert service.process.returncode in (0, -15), service.log_tail()
    assert list(log.glob("*.jsonl")) == []  # every file stored, then removed here
    keys = keys_under(s3, PREFIX)
    assert len(keys) >= 2
    assert all(k.startswith(PREFIX) and k.endswith(".jsonl") for k in keys)

    # The retraining job, as `make fetch-predictions` runs it (a fresh folder, boto3).
    fetched = tmp_path / "fetched"
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", "fetch-predictions"],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "MLOPS_PREDICTION_LOG_URI": f"s3://{BUCKET}/{PREFIX}",
            "MLOPS_PREDICTION_LOG_DIR": str(fetched),
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_DEFAULT_REGION": REGION,
            **DUMMY_KEYS,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(keys)} of {len(keys)} files" in result.stdout
    records = list(read_prediction_log(fetched))
    print(f"answered {answered}; {len(keys)} objects shipped; read back {len(records)} records")
    assert len(records) == answered
    assert {r.model_version for r in records} == {"7"}


def test_an_unreachable_s3_neither_slows_nor_fails_predictions(
    tmp_path: Path, model_dir: Path
) -> None:
    with socket.socket() as closed:  # a port nobody listens on: every upload is refused
        closed.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}"
    log = tmp_path / "log"
    service = shipping_service(tmp_path, model_dir, refused, log, ship_seconds="0.2")
    try:
        answered, latencies = predict(service, ROWS * 3)  # uploads fail all along
        failed = 'prediction_log_uploads_total{outcome="failed"}'
        wait_for(lambda: metric(service, failed) >= 3)
        assert metric(service, 'prediction_log_uploads_total{outcome="uploaded"}') == 0
    finally:
        started = time.monotonic()
        service.stop()
        stopped_in = time.monotonic() - started
    assert answered == len(ROWS) * 3 + 12 * 5
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)]
    print(f"{len(latencies)} predictions while uploads failed: p99 {p99 * 1000:.1f} ms; "
          f"stopped in {stopped_in:.1f} s")  # fmt: skip
    assert p99 < 0.25
    assert stopped_in < 12
    kept = list(log.glob("*.jsonl"))
    assert kept  # nothing removed without a 200
    assert sum(1 for _ in read_prediction_log(log)) == answered
    output = service.log_path.read_text()
    assert output.count("cannot upload to s3://") == 1  # one warning for the outage
