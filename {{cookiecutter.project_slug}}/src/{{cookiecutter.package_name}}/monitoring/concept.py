"""Concept drift: the model's live quality on labelled recent data against training.

Data drift asks whether inputs changed; concept drift asks whether the relation
between inputs and outcome changed, which only labels can show. Once outcomes
are known (a customer did or did not churn), the same metrics as in training are
computed on recent predictions; a metric degrades when it fell by more than the
tolerance and that fall is larger than sampling noise on so few labels explains
(its p-value is adjusted together with the data-drift tests).
Pure functions: numpy and scipy, no I/O; the metric formulas are training's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from ..train.metrics import METRICS

Labels = NDArray[np.bool_]
Scores = NDArray[np.float64]


# Metrics whose sampling error is known (higher is better for all), named as in
# metrics/metrics.json; their formulas are train/metrics.py's, shared with training.
LIVE_METRICS = ("roc_auc", "recall", "precision", "f1", "accuracy")


def _confusion(labels: Labels, scores: Scores, threshold: float) -> tuple[int, int, int, int]:
    predicted = scores >= threshold
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    tn = int(np.sum(~predicted & ~labels))
    return tp, fp, fn, tn


def live_metric(name: str, labels: Labels, scores: Scores, threshold: float) -> float | None:
    """`name` on labelled recent rows, computed as in training; None where undefined."""
    return METRICS[name](labels, scores, threshold)


def standard_error(name: str, labels: Labels, scores: Scores, threshold: float) -> float | None:
    """Approximate sampling error of a metric on this many rows.

    ROC-AUC: Hanley and McNeil (1982). The others are proportions of some count
    (recall of the positives, precision of the flagged rows, accuracy of all
    rows, F1 roughly of the rows that enter it), so the binomial error applies.
    """
    value = live_metric(name, labels, scores, threshold)
    if value is None:
        return None
    tp, fp, fn, _ = _confusion(labels, scores, threshold)
    if name == "roc_auc":
        n1 = int(labels.sum())
        n0 = labels.size - n1
        q1, q2 = value / (2 - value), 2 * value**2 / (1 + value)
        variance = (
            value * (1 - value) + (n1 - 1) * (q1 - value**2) + (n0 - 1) * (q2 - value**2)
        ) / (n1 * n0)
        return float(np.sqrt(max(variance, 0.0)))
    count = {"recall": tp + fn, "precision": tp + fp, "f1": tp + fp + fn}.get(name, labels.size)
    return float(np.sqrt(value * (1 - value) / count)) if count else None


@dataclass(frozen=True)
class MetricCheck:
    """One metric, live against training.

    `p_value` answers "could the live metric still be within `max_drop` of
    training, and only look lower by chance?"; it joins the p-values of the
    data-drift tests, and `degraded` is set once all of them are adjusted.
    """

    name: str
    training: float | None
    live: float | None
    max_drop: float
    standard_error: float | None = None
    p_value: float = 1.0
    p_adjusted: float = 1.0
    degraded: bool = False

    @property
    def drop(self) -> float | None:
        """How much lower the live value is (negative: it improved)."""
        if self.training is None or self.live is None:
            return None
        return self.training - self.live


def _p_value(
    training: float | None, live: float | None, error: float | None, max_drop: float
) -> float:
    """One-sided p-value of "live >= training - max_drop" (normal approximation)."""
    if training is None or live is None or error is None:
        return 1.0
    margin = live - (training - max_drop)
    if error == 0:
        return 0.0 if margin < 0 else 1.0
    return float(stats.norm.cdf(margin / error))


@dataclass(frozen=True)
class ConceptResult:
    """Live-metric checks on labelled recent data, or why they could not run."""

    rows: int
    positives: int
    checks: tuple[MetricCheck, ...] = ()
    note: str | None = None

    @property
    def degraded(self) -> list[MetricCheck]:
        """The checks that failed."""
        return [check for check in self.checks if check.degraded]

    def judged(self, p_adjusted: list[float], alpha: float) -> ConceptResult:
        """Set each check's adjusted p-value and verdict: degraded when below alpha."""
        checks = tuple(
            dataclasses.replace(
                check,
                p_adjusted=p,
                degraded=p < alpha and check.drop is not None and check.drop > check.max_drop,
            )
            for check, p in zip(self.checks, p_adjusted, strict=True)
        )
        return dataclasses.replace(self, checks=checks)


def compare_live_metrics(
    labels: Labels,
    scores: Scores,
    training: Mapping[str, float],
    max_drop: Mapping[str, float],
    *,
    threshold: float = 0.5,
    min_rows: int = 1,
) -> ConceptResult:
    """Compute each configured metric on the labelled rows and its p-value against training.

    Nothing is judged yet (see `ConceptResult.judged`). Metrics absent from the
    training metrics are reported but cannot fail.
    """
    rows, positives = int(labels.size), int(labels.sum())
    if rows < min_rows:
        return ConceptResult(
            rows, positives, note=f"{rows} labelled rows, fewer than the {min_rows} needed"
        )
    checks = []
    for name, tolerance in max_drop.items():
        live = live_metric(name, labels, scores, threshold)
        error = standard_error(name, labels, scores, threshold)
        reference = training.get(name)
        checks.append(
            MetricCheck(
                name=name,
                training=reference,
                live=live,
                max_drop=tolerance,
                standard_error=error,
                p_value=_p_value(reference, live, error, tolerance),
            )
        )
    note = None
    if positives in (0, rows):
        note = "labels hold a single class: ranking metrics are undefined"
    return ConceptResult(rows, positives, tuple(checks), note)
