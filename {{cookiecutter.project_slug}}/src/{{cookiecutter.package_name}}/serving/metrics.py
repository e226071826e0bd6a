"""Prometheus metrics of the service and the ASGI middleware that records them.

Names are shared with infra/monitoring (alert rules, dashboard): keep them in
sync. Routes are labelled by their template, and unknown paths collapse into
one label, so a scanner cannot blow up the series count.

Several workers (`serve --workers N`) share their metrics through prometheus_client's
multiprocess mode: `serve` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before
the workers start, each worker writes its values into its own files there, and
`/metrics` in any worker answers the sum over all of them. Counters of a worker that
died still count (a counter never goes back); its gauges (in flight, model info)
are forgotten.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from .workers import MULTIPROCESS_ENV, process_alive

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SCORE_BUCKETS = tuple(i / 10 for i in range(1, 11))


class ServiceMetrics:
    """The service's own registry (not the global one), so tests get fresh counters."""

    def __init__(self) -> None:
        """Create the metric families."""
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests by route, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.scores = Histogram(
            "prediction_score",
            "Predicted probability of the positive label.",
            buckets=SCORE_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "predictions",
            "Rows scored and answered (a batch counts each row).",
            registry=self.registry,
        )
        self.log_records = Counter(
            "prediction_log_records",
            "Prediction-log records by outcome: written, or dropped (disk full, read-only, "
            "writer behind); predictions are answered either way.",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("written", "dropped"):
            self.log_records.labels(outcome)  # both series exist from the start
        self.log_uploads = Counter(
            "prediction_log_uploads",
            "Prediction-log files shipped to S3 by outcome: uploaded (then removed here), or "
            "failed (kept and retried next interval).",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("uploaded", "failed"):
            self.log_uploads.labels(outcome)
        self.in_flight = Gauge(
            "http_requests_in_flight",
            "Requests being served right now (beyond the cap they get 503).",
            registry=self.registry,
            multiprocess_mode="livesum",  # several workers: the sum over the live ones
        )
        self.model_info = Gauge(
            "model_info",
            "The model being served (value is always 1).",
            ["model_version", "contract"],
            registry=self.registry,
            multiprocess_mode="livemax",  # several workers: one series, 1, live ones only
        )

    def count_log(self, outcome: str, count: int) -> None:
        """Counter callback of the prediction log (called from its writer thread too)."""
        self.log_records.labels(outcome).inc(count)

    def count_upload(self, outcome: str, count: int) -> None:
        """Counter callback of the log shipper (called from its thread)."""
        self.log_uploads.labels(outcome).inc(count)


def observe_many(histogram: Histogram, values: Sequence[float]) -> None:
    """`histogram.observe(v)` for each value, as one increment per bucket and one of the sum.

    Each `observe` takes a lock and walks the buckets in Python: 2.4 ms for a
    1,000-row batch's scores, a quarter of its time budget. The same counts come
    from one `searchsorted` (a value goes to the first bucket whose upper bound is
    >= it, as `observe` does). A histogram whose internals are not prometheus_client's
    own (a future version), or a labelled parent, is fed one value at a time, as before.
    """
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for value in values:
            histogram.observe(value)
        return
    index = np.searchsorted(np.asarray(bounds), np.asarray(values, dtype=np.float64))
    counts = np.bincount(index, minlength=len(bounds) + 1)[: len(bounds)]  # NaN: in no bucket
    total.inc(math.fsum(values))
    for bucket, count in zip(buckets, counts.tolist(), strict=True):
        if count:
            bucket.inc(count)


def exposition(registry: CollectorRegistry) -> bytes:
    """The text `/metrics` answers: this process's registry, or every worker's values."""
    directory = os.environ.get(MULTIPROCESS_ENV)
    if not directory:
        return generate_latest(registry)
    forget_dead_workers(Path(directory))
    combined = CollectorRegistry()
    MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(combined)


def forget_dead_workers(directory: Path) -> list[int]:
    """Drop the live-gauge files of workers that are gone (a restarted worker has a new pid)."""
    dead = set()
    for path in directory.glob("gauge_live*_*.db"):
        tail = path.stem.rsplit("_", 1)[-1]
        if tail.isdigit() and not process_alive(int(tail)):
            dead.add(int(tail))
    for pid in dead:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return sorted(dead)


class MetricsMiddleware:
    """Counts every HTTP request and times it, including ones refused before routing."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, routes: frozenset[str]) -> None:
        """Wrap `app`; `routes` are the paths that get their own label."""
        self.app = app
        self.metrics = metrics
        self.routes = routes
        # labels() costs a lock and a dict lookup per call: keep the children.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Record route, method, status and duration."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            path = scope.get("path", "")
            route = path if path in self.routes else "other"
            key = (route, scope.get("method", ""), status)
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = self.metrics.requests.labels(*key[:2], str(status))
            counter.inc()
            timer = self._timers.get(route)
            if timer is None:
                timer = self._timers[route] = self.metrics.latency.labels(route)
            timer.observe(time.perf_counter() - started)
