"""A burst of ten times the in-flight cap: shed with 503 + Retry-After, never a crash.

Eighty clients send a 1,000-row batch (~0.5 MB) at the same instant to a
service capped at eight requests in flight, each request held for SLOW_MS (the
service's slow fault), so the burst overlaps however fast the machine or the
scoring code is. Each client honours Retry-After and
tries again until it gets its predictions: nothing is lost, the only failure a
client ever sees is the documented 503, and the service's memory stays bounded
(its peak is printed, next to the same burst without the cap).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.probes import free_port
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows
from {{ cookiecutter.package_name }}.serving.process import (
    ServiceProcess,
    start_service,
    wait_ready,
)

from ..conftest import PROJECT_DIR, SAMPLE, build_model_dir, contract

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

CAP = 8
CLIENTS = 10 * CAP
DEADLINE_SECONDS = 120.0
SLOW_MS = 300  # each request's time in the service: 80 overlap, 8 at a time get through


@dataclass
class Burst:
    """What the clients saw."""

    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    retry_after_missing: int = 0
    served: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int) -> None:
        with self.lock:
            self.sent += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1


def peak_memory_mib(service: ServiceProcess) -> float:
    status = Path(f"/proc/{service.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def client(port: int, body: bytes, start: threading.Barrier, burst: Burst) -> None:
    start.wait()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", "/predict/batch", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as err:
            with burst.lock:
                burst.errors.append(f"{type(err).__name__}: {err}")
            return
        finally:
            connection.close()
        burst.count(response.status)
        if response.status == 200:
            assert len(json.loads(payload)["predictions"]) == 1000
            with burst.lock:
                burst.served += 1
            return
        retry = response.getheader("Retry-After")
        if response.status != 503 or retry is None:
            with burst.lock:
                burst.retry_after_missing += retry is None
                burst.errors.append(f"HTTP {response.status}: {payload[:200]!r}")
            return
        time.sleep(float(retry))


def run_burst(tmp_path: Path, model_dir: Path, cap: int) -> tuple[Burst, float, float, bool]:
    """(what the clients saw, seconds until all were served, peak MiB, service alive)."""
    port = free_port()
    env = {
        "MLOPS_MAX_IN_FLIGHT": str(cap),
        "MLOPS_PREDICTION_LOG_SAMPLE": "0",
        "MLOPS_FAULT": f"slow:{SLOW_MS}",
    }
    service = start_service(PROJECT_DIR, port, tmp_path / f"cap-{cap}.log", env, model_dir)
    try:
        wait_ready(service)
        rows = sample_rows(SAMPLE, contract(), 1000, seed=2)
        body = json.dumps({"rows": rows}).encode()
        burst = Burst()
        start = threading.Barrier(CLIENTS)
        threads = [
            threading.Thread(target=client, args=(port, body, start, burst)) for _ in range(CLIENTS)
        ]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DEADLINE_SECONDS + 30)
        drained = time.monotonic() - began
        alive = service.process.poll() is None
        return burst, drained, peak_memory_mib(service), alive
    finally:
        service.stop()


def test_a_burst_of_ten_times_the_cap_is_shed_and_every_client_is_served(
    tmp_path: Path,
) -> None:
    model_dir = build_model_dir(tmp_path / "model")
    burst, drained, peak, alive = run_burst(tmp_path, model_dir, CAP)
    _, _, uncapped_peak, _ = run_burst(tmp_path, model_dir, 10_000)
    print(
        f"\nchaos burst of {CLIENTS} x 1,000-row batches ({SLOW_MS} ms each) at a cap of {CAP}: "
        f"{burst.sent} "
        f"requests sent, {burst.statuses.get(503, 0)} answered 503 + Retry-After (the documented "
        f"failure), 0 other failures, {CLIENTS - burst.served} lost; all served after "
        f"{drained:.1f} s; peak memory {peak:.0f} MiB (without the cap: {uncapped_peak:.0f} MiB)"
    )
    assert alive
    assert burst.errors == []
    assert burst.retry_after_missing == 0
    assert set(burst.statuses) <= {200, 503}
    assert burst.statuses.get(503, 0) > 0  # the cap did shed the excess
    assert burst.served == CLIENTS  # nothing lost: every client got its predictions
