"""Behavioural and quality checks of a trained model: the logic behind `make model-test`.

Each check returns a CheckResult whose name says which check it is, so a failing
`make model-test` tells the reader what broke without opening the code. The
checks take the model, the rows and the configuration as arguments: the same
functions judge the saved model and a model trained in memory from a bad config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract.model import DataContract
from .config import (
    DirectionalCase,
    MinimumFunctionalityCase,
    Robustness,
    SliceGap,
)
from .estimator import ProbabilisticClassifier
from .metrics import SliceEntry, metric, slice_gap
from .training import positive_proba


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: its name, whether it passed, and the numbers behind the verdict."""

    name: str
    passed: bool
    detail: str

    @property
    def message(self) -> str:
        """One line naming the check, for assertion messages and logs."""
        verdict = "passed" if self.passed else "FAILED"
        return f"model check {verdict}: {self.name}: {self.detail}"


def check_metric_thresholds(
    metrics: Mapping[str, float], floors: Mapping[str, float]
) -> CheckResult:
    """Every floor reached (every ceiling respected, for lower-is-better metrics)."""
    misses = []
    for name, bound in floors.items():
        value = metrics[name]
        if not metric(name).meets(value, bound):
            side = "<" if metric(name).higher_is_better else ">"
            word = "floor" if metric(name).higher_is_better else "ceiling"
            misses.append(f"{name} {value:.4f} {side} {word} {bound}")
    if misses:
        return CheckResult("metric thresholds", False, "; ".join(misses))
    shown = ", ".join(f"{n} {metrics[n]:.4f}" for n in floors)
    return CheckResult("metric thresholds", True, shown or "no floors configured")


def check_slice_gap(column: str, per_value: dict[str, SliceEntry], gap: SliceGap) -> CheckResult:
    """The best and worst scored slices of `column` differ by at most `gap.max_gap`."""
    name = f"slice gap of {column}"
    found = slice_gap(per_value, gap.metric)
    if found is None:
        return CheckResult(name, True, "fewer than two slices large enough to score")
    size, best, worst = found
    detail = f"{gap.metric} {best!r} vs {worst!r} differs by {size:.4f} (max {gap.max_gap})"
    return CheckResult(name, size <= gap.max_gap, detail)


def check_id_invariance(
    model: ProbabilisticClassifier, frame: pd.DataFrame, id_column: str
) -> CheckResult:
    """Replacing every id with another string leaves every probability exactly unchanged."""
    changed = frame.copy()
    changed[id_column] = [f"changed-{i}" for i in range(len(frame))][::-1]
    before = positive_proba(model, frame)
    after = positive_proba(model, changed)
    moved = int((before != after).sum())
    detail = f"{moved} of {len(frame)} predictions changed when only {id_column!r} changed"
    return CheckResult(f"invariance to {id_column}", moved == 0, detail)


def check_directional(
    model: ProbabilisticClassifier, frame: pd.DataFrame, case: DirectionalCase
) -> CheckResult:
    """Setting `case.column` to `to_value` instead of `from_value` moves most rows as expected."""
    start, end = frame.copy(), frame.copy()
    start[case.column] = case.from_value
    end[case.column] = case.to_value
    delta = positive_proba(model, end) - positive_proba(model, start)
    moved = delta > 0 if case.expect == "increase" else delta < 0
    share = float(moved.mean())
    detail = (
        f"{case.column} {case.from_value!r} -> {case.to_value!r}: probability "
        f"{'rose' if case.expect == 'increase' else 'fell'} for {share:.1%} of {len(frame)} rows "
        f"(need {case.min_share:.0%}); mean change {float(delta.mean()):+.4f}"
    )
    return CheckResult(f"directional: {case.name}", share >= case.min_share, detail)


def typical_row(frame: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """One row of medians (numeric) and most frequent values (categorical), as a base case."""
    row: dict[str, object] = {}
    if contract.id_column:
        row[contract.id_column] = "typical"
    for name in contract.numeric:
        row[name] = float(frame[name].median())
    for name in contract.categorical:
        counts = frame[name].value_counts()
        row[name] = sorted(counts[counts == counts.max()].index, key=str)[0]
    return pd.DataFrame([row])


def check_minimum_functionality(
    model: ProbabilisticClassifier,
    base: pd.DataFrame,
    case: MinimumFunctionalityCase,
    threshold: float,
) -> CheckResult:
    """The typical row with the case's values set lands on the expected side of the threshold."""
    row = base.copy()
    for column, value in case.set.items():
        row[column] = value
    proba = float(positive_proba(model, row)[0])
    passed = proba >= threshold if case.expect == "positive" else proba < threshold
    side = ">=" if case.expect == "positive" else "<"
    detail = f"probability {proba:.4f}, expected {case.expect} ({side} {threshold})"
    return CheckResult(f"minimum functionality: {case.name}", passed, detail)


def check_robustness(
    model: ProbabilisticClassifier,
    frame: pd.DataFrame,
    contract: DataContract,
    spec: Robustness,
    seed: int,
) -> CheckResult:
    """Small Gaussian noise on every numeric input moves probabilities only a little on average."""
    name = "robustness to numeric noise"
    if not contract.numeric:
        return CheckResult(name, True, "the contract declares no numeric inputs")
    rng = np.random.default_rng(seed)
    noisy = frame.copy()
    for column, bounds in contract.numeric.items():
        values = noisy[column].astype(float)
        scale = spec.noise * float(values.std(ddof=0))
        noisy[column] = (values + rng.normal(0.0, scale, len(values))).clip(
            lower=bounds.min, upper=bounds.max
        )
    change = np.abs(positive_proba(model, noisy) - positive_proba(model, frame))
    mean = float(change.mean())
    detail = (
        f"noise {spec.noise} std moved probabilities by {mean:.4f} on average "
        f"(max allowed {spec.max_mean_prob_change}), largest move {float(change.max()):.4f}"
    )
    return CheckResult(name, mean <= spec.max_mean_prob_change, detail)


def check_determinism(first: dict[str, float], second: dict[str, float]) -> CheckResult:
    """Two trainings on the same data and configuration give exactly the same metrics."""
    differ = [
        f"{name} {first.get(name)!r} != {second.get(name)!r}"
        for name in sorted(set(first) | set(second))
        if first.get(name) != second.get(name)
    ]
    detail = "; ".join(differ) if differ else f"{len(first)} metrics identical"
    return CheckResult("determinism", not differ, detail)
