"""Is green healthy? Error rate and latency over a watch window, from its own metrics.

The service exports cumulative Prometheus counters and a latency histogram;
two snapshots give the window between them, so no metrics server is needed
for a local rehearsal. Platforms that watch through alarms (AWS) fill in
`alarms` instead. Pure functions: parsing text and comparing numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

PREDICT_ROUTES = frozenset({"/predict", "/predict/batch"})
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Observation:
    """Cumulative counts seen on green at one instant, plus anything already known to be wrong."""

    requests: int = 0
    errors: int = 0
    buckets: Mapping[float, float] = field(default_factory=dict)  # le (s) -> cumulative count
    alarms: tuple[str, ...] = ()
    settled: bool = False  # the platform finished this step on its own (AWS bake time)
    # The front door (nginx) was found dead and started again since the last observation:
    # requests that failed meanwhile never reached green, so they do not count against it.
    front_door_restarted: bool = False


@dataclass(frozen=True)
class HealthLimits:
    """What green may not exceed in a window."""

    max_error_rate: float = 0.01
    max_p95_ms: float = 250.0
    min_requests: int = 20


def parse_metrics(text: str, routes: frozenset[str] = PREDICT_ROUTES) -> Observation:
    """Requests, 5xx answers and the latency histogram of the prediction routes."""
    requests = errors = 0
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, labels_text, value_text = match.groups()
        labels = dict(_LABEL.findall(labels_text or ""))
        if labels.get("route") not in routes:
            continue
        value = float(value_text)
        if name == "http_requests_total":
            requests += int(value)
            if labels.get("status", "").startswith("5"):
                errors += int(value)
        elif name == "http_request_duration_seconds_bucket":
            bound = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            buckets[bound] = buckets.get(bound, 0.0) + value
    return Observation(requests=requests, errors=errors, buckets=buckets)


def p95_upper_bound(before: Mapping[float, float], after: Mapping[float, float]) -> float:
    """Upper bound (s) of the histogram bucket holding the window's 95th percentile."""
    window = {le: after[le] - before.get(le, 0.0) for le in after}
    total = window.get(math.inf, 0.0)
    if total <= 0:
        return 0.0
    for le in sorted(window):
        if window[le] >= 0.95 * total:
            return le
    return math.inf


def judge(before: Observation, after: Observation, limits: HealthLimits) -> list[str]:
    """Reasons green is unhealthy in the window between two observations (empty: healthy)."""
    problems = [f"alarm: {name}" for name in after.alarms]
    requests = after.requests - before.requests
    errors = after.errors - before.errors
    if requests > 0 and errors / requests > limits.max_error_rate:
        problems.append(
            f"error rate {errors}/{requests} = {errors / requests:.1%} "
            f"(allowed {limits.max_error_rate:.1%})"
        )
    if requests >= limits.min_requests:
        bound = p95_upper_bound(before.buckets, after.buckets)
        if bound * 1000 > limits.max_p95_ms:
            shown = "above the largest bucket" if math.isinf(bound) else f"<= {bound * 1000:.0f} ms"
            problems.append(
                f"p95 latency {shown} over {requests} requests (allowed {limits.max_p95_ms:.0f} ms)"
            )
    return problems
