"""Summarise a locust run and decide whether it passes the load gate.

Locust's JSON output has, per endpoint, the exact request and failure counts
and a histogram of response times (rounded milliseconds -> count); percentiles
are computed from that histogram, never from the 1-second CSV snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoadSummary:
    """Totals over every endpoint of one run."""

    requests: int
    failures: int
    duration_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        """Requests per second over the run."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


@dataclass(frozen=True)
class LoadThresholds:
    """What a release must sustain."""

    max_failures: int = 0
    max_p95_ms: float = 100.0
    min_requests: int = 100


def percentile(histogram: Mapping[float, int], fraction: float) -> float:
    """The response time below which `fraction` of the requests finished."""
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    rank = fraction * total
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


def summarize(entries: Iterable[Mapping[str, Any]]) -> LoadSummary:
    """Merge locust's per-endpoint entries (from `--json-file`)."""
    histogram: dict[float, int] = {}
    requests = failures = 0
    start, end = float("inf"), 0.0
    for entry in entries:
        requests += int(entry.get("num_requests", 0))
        failures += int(entry.get("num_failures", 0))
        for value, count in (entry.get("response_times") or {}).items():
            histogram[float(value)] = histogram.get(float(value), 0) + int(count)
        start = min(start, float(entry.get("start_time") or start))
        end = max(end, float(entry.get("last_request_timestamp") or 0.0))
    duration = end - start if end > start else 0.0
    return LoadSummary(
        requests=requests,
        failures=failures,
        duration_s=duration,
        p50_ms=percentile(histogram, 0.50),
        p95_ms=percentile(histogram, 0.95),
        p99_ms=percentile(histogram, 0.99),
    )


def violations(summary: LoadSummary, thresholds: LoadThresholds) -> list[str]:
    """Human-readable reasons the run fails the gate (empty when it passes)."""
    problems = []
    if summary.failures > thresholds.max_failures:
        problems.append(f"{summary.failures} failed requests (allowed {thresholds.max_failures})")
    if summary.p95_ms > thresholds.max_p95_ms:
        problems.append(f"p95 {summary.p95_ms:.0f} ms (allowed {thresholds.max_p95_ms:.0f} ms)")
    if summary.requests < thresholds.min_requests:
        problems.append(f"only {summary.requests} requests (need {thresholds.min_requests})")
    return problems
