"""Quality gates: decide whether a candidate model may replace the baseline.

Pure functions over the metrics documents that training writes
(`metrics/metrics.json`), so every rule can be unit-tested with plain dicts and
the same decision is made on a laptop, in CI and before a release.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..train.metrics import metric as metric_named
from .config import GateConfig

Metrics = dict[str, Any]
# advisory: reported for the reviewer, never blocking (e.g. latencies from two machines).
Status = Literal["pass", "fail", "skip", "advisory"]


@dataclass(frozen=True)
class MeasuredCosts:
    """Latency and size of the candidate and the baseline model, measured in this run."""

    candidate_latency_ms: dict[str, float]
    baseline_latency_ms: dict[str, float]
    candidate_size_bytes: int
    baseline_size_bytes: int
    baseline_model: str  # where the timed baseline model came from, for the report
    attempts: int = 1  # timings taken: a latency over the limit is timed again (gates.yaml)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (written to reports/comparison.json)."""
        return asdict(self)


@dataclass(frozen=True)
class Check:
    """One gate applied to one number."""

    gate: str
    subject: str
    baseline: float | None
    candidate: float | None
    limit: str
    status: Status
    reason: str = ""

    @property
    def delta(self) -> float | None:
        """Candidate minus baseline, when both exist."""
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate - self.baseline


@dataclass(frozen=True)
class Comparison:
    """The verdict on a candidate, with every check that led to it."""

    checks: list[Check]
    baseline_label: str | None
    data_changed: bool = False
    notes: list[str] = field(default_factory=list)
    measured: MeasuredCosts | None = None

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not self.failures

    @property
    def failures(self) -> list[Check]:
        """The failed checks, in order."""
        return [c for c in self.checks if c.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, read back by the report."""
        return {
            "passed": self.passed,
            "baseline": self.baseline_label,
            "data_changed": self.data_changed,
            "notes": list(self.notes),
            "checks": [asdict(c) | {"delta": c.delta} for c in self.checks],
            "measured": None if self.measured is None else self.measured.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        """Inverse of to_dict."""
        checks = [Check(**{k: v for k, v in c.items() if k != "delta"}) for c in data["checks"]]
        measured = data.get("measured")
        return cls(
            checks,
            data.get("baseline"),
            data.get("data_changed", False),
            data["notes"],
            None if measured is None else MeasuredCosts(**measured),
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def worsening(name: str, baseline: float, candidate: float) -> float:
    """How much worse the candidate is (positive = worse), whatever the metric's direction."""
    return metric_named(name).worsening(baseline, candidate)


def floor_checks(candidate: Metrics, config: GateConfig) -> list[Check]:
    """Absolute floors (ceilings for lower-is-better metrics), baseline or not."""
    checks = []
    for name, bound in config.floors.items():
        value = _number(candidate.get("metrics", {}).get(name))
        limit = f"≥ {bound:g}" if metric_named(name).higher_is_better else f"≤ {bound:g}"
        if value is None:
            checks.append(Check("floor", name, None, None, limit, "fail", "metric missing"))
            continue
        ok = metric_named(name).meets(value, bound)
        reason = "" if ok else f"{name} = {value:.4f}, required {limit}"
        checks.append(Check("floor", name, None, value, limit, "pass" if ok else "fail", reason))
    return checks


def regression_checks(candidate: Metrics, baseline: Metrics, config: GateConfig) -> list[Check]:
    """Largest allowed worsening per metric, with a noise tolerance."""
    checks = []
    for metric, allowed in config.max_regression.items():
        base = _number(baseline.get("metrics", {}).get(metric))
        cand = _number(candidate.get("metrics", {}).get(metric))
        limit = f"worse by ≤ {allowed:g}"
        if base is None or cand is None:
            reason = "not in the baseline" if cand is not None else "metric missing"
            status: Status = "skip" if cand is not None else "fail"
            checks.append(Check("regression", metric, base, cand, limit, status, reason))
            continue
        worse = worsening(metric, base, cand)
        ok = worse <= max(allowed, config.tolerance)
        reason = "" if ok else f"{metric} fell from {base:.4f} to {cand:.4f} (allowed {allowed:g})"
        checks.append(
            Check("regression", metric, base, cand, limit, "pass" if ok else "fail", reason)
        )
    return checks


def slice_checks(candidate: Metrics, baseline: Metrics, config: GateConfig) -> list[Check]:
    """No slice of the test set may collapse even when the overall metric holds."""
    gate = config.slices
    checks = []
    base_slices = baseline.get("slices", {})
    for column, values in sorted(candidate.get("slices", {}).items()):
        for value, stats in sorted(values.items()):
            subject = f"{column}={value} {gate.metric}"
            base_stats = base_slices.get(column, {}).get(value)
            cand = _number(stats.get(gate.metric))
            base = _number(base_stats.get(gate.metric)) if base_stats else None
            limit = f"worse by ≤ {gate.max_drop:g}"
            if stats.get("n", 0) < gate.min_rows or cand is None or base is None:
                continue
            worse = worsening(gate.metric, base, cand)
            ok = worse <= max(gate.max_drop, config.tolerance)
            reason = "" if ok else f"slice {column}={value}: {gate.metric} {base:.4f} → {cand:.4f}"
            checks.append(
                Check("slice", subject, base, cand, limit, "pass" if ok else "fail", reason)
            )
    return checks


def within_ratio(base: float, cand: float, *, max_ratio: float, floor: float) -> bool:
    """The candidate's cost is at most `max_ratio` times the baseline's, or within `floor` of it."""
    return cand <= base * max_ratio or cand - base < floor


def _ratio_check(
    gate: str,
    subject: str,
    base: float | None,
    cand: float | None,
    *,
    max_ratio: float,
    floor: float,
    measured: bool,
) -> Check | None:
    if base is None or cand is None or base <= 0:
        return None
    ok = within_ratio(base, cand, max_ratio=max_ratio, floor=floor)
    grew = f"{subject} {cand / base:.2f}× baseline ({base:g} → {cand:g})"
    if measured:
        limit = f"≤ {max_ratio:g}× baseline, same run"
        return Check(gate, subject, base, cand, limit, "pass" if ok else "fail", "" if ok else grew)
    limit = f"≤ {max_ratio:g}× baseline (advisory)"
    reason = (
        f"{'within the limit' if ok else 'above the limit'}: {grew}; advisory only, the "
        "figures come from different runs (time both side by side with a baseline model)"
    )
    return Check(gate, subject, base, cand, limit, "advisory", reason)


def cost_checks(
    candidate: Metrics,
    baseline: Metrics,
    config: GateConfig,
    measured: MeasuredCosts | None = None,
) -> list[Check]:
    """Latency and size: a better model that is far slower or bigger still needs a decision.

    They block only on figures measured in this run, both models side by side
    (`measured`); the figures committed in two metrics files may come from two
    machines, so a ratio of them is only reported (status `advisory`).
    """
    stat = config.latency.stat
    if measured is not None:
        latency_pair = (
            _number(measured.baseline_latency_ms.get(stat)),
            _number(measured.candidate_latency_ms.get(stat)),
        )
        size_pair = (
            _number(measured.baseline_size_bytes),
            _number(measured.candidate_size_bytes),
        )
    else:
        latency_pair = (
            _number(baseline.get("latency_ms", {}).get(stat)),
            _number(candidate.get("latency_ms", {}).get(stat)),
        )
        size_pair = (
            _number(baseline.get("model", {}).get("size_bytes")),
            _number(candidate.get("model", {}).get("size_bytes")),
        )
    latency = _ratio_check(
        "latency",
        f"latency {stat} (ms)",
        *latency_pair,
        max_ratio=config.latency.max_ratio,
        floor=config.latency.min_delta_ms,
        measured=measured is not None,
    )
    size = _ratio_check(
        "model_size",
        "model size (bytes)",
        *size_pair,
        max_ratio=config.model_size.max_ratio,
        floor=config.model_size.min_delta_bytes,
        measured=measured is not None,
    )
    return [c for c in (latency, size) if c is not None]


def data_changed(candidate: Metrics, baseline: Metrics) -> bool:
    """True when the two were not measured on the same test rows of the same data."""
    keys = ("fingerprint", "test_ids_fingerprint")
    cand, base = candidate.get("data", {}), baseline.get("data", {})
    return any(cand.get(k) != base.get(k) for k in keys)


def compare(
    candidate: Metrics,
    baseline: Metrics | None,
    config: GateConfig,
    baseline_label: str | None,
    *,
    measured: MeasuredCosts | None = None,
    missing: str | None = None,
) -> Comparison:
    """Apply every gate; without a baseline only the absolute floors can apply.

    `measured`: latency and size of both models timed in this run; without it the
    latency and size gates are advisory (see `cost_checks`). `missing`: where the
    baseline was looked for, said when none was found.
    """
    checks = floor_checks(candidate, config)
    if baseline is None:
        where = f" ({missing})" if missing else ""
        note = (
            f"No baseline found{where}: first model, or nothing to compare with, so only "
            "the absolute floors apply."
        )
        return Comparison(checks, None, notes=[note])
    notes = []
    changed = data_changed(candidate, baseline)
    if changed:
        notes.append(
            "The data changed since the baseline (different data or test-set fingerprint): "
            "metric and slice deltas compare different test rows, so regression gates are "
            "skipped; only floors, latency and size apply. Review the metrics yourself."
        )
        skipped = [
            Check(c.gate, c.subject, c.baseline, c.candidate, c.limit, "skip", "data changed")
            for c in regression_checks(candidate, baseline, config)
        ]
        checks += skipped
    else:
        checks += regression_checks(candidate, baseline, config)
        checks += slice_checks(candidate, baseline, config)
    checks += cost_checks(candidate, baseline, config, measured)
    if measured is None:
        notes.append(
            "Latency and model size are advisory: no baseline model was timed beside the "
            "candidate in this run, and figures measured on different machines are not "
            "comparable (see `make baseline`)."
        )
    else:
        retimed = (
            f"; latency timed {measured.attempts} times, the closest attempt counts"
            if measured.attempts > 1
            else ""
        )
        notes.append(
            f"Latency and model size: both models measured side by side in this run "
            f"(baseline model: {measured.baseline_model}{retimed})."
        )
    return Comparison(checks, baseline_label, data_changed=changed, notes=notes, measured=measured)


def reproduction_checks(committed: Metrics, fresh: Metrics, tolerance: float) -> list[Check]:
    """Every committed quality metric must be re-obtained within `tolerance`."""
    checks = []
    names = sorted(set(committed.get("metrics", {})) | set(fresh.get("metrics", {})))
    for metric in names:
        old = _number(committed.get("metrics", {}).get(metric))
        new = _number(fresh.get("metrics", {}).get(metric))
        limit = f"|Δ| ≤ {tolerance:g}"
        ok = old is not None and new is not None and abs(new - old) <= tolerance
        reason = "" if ok else f"{metric}: committed {old}, re-trained {new}"
        checks.append(
            Check("reproducible", metric, old, new, limit, "pass" if ok else "fail", reason)
        )
    return checks
