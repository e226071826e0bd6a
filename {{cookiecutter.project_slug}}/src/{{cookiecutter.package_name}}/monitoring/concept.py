"""Concept drift: the model's live quality on labelled recent data against training.

Data drift asks whether inputs changed; concept drift asks whether the relation
between inputs and outcome changed, which only labels can show. Once outcomes
are known (a customer did or did not churn), the same metrics as in training are
computed on recent predictions and a drop beyond the tolerance is flagged.
Pure functions: numpy and scipy, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Labels = NDArray[np.bool_]
Scores = NDArray[np.float64]


def _confusion(labels: Labels, scores: Scores, threshold: float) -> tuple[int, int, int, int]:
    predicted = scores >= threshold
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    tn = int(np.sum(~predicted & ~labels))
    return tp, fp, fn, tn


def roc_auc(labels: Labels, scores: Scores, threshold: float = 0.5) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = stats.rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def recall(labels: Labels, scores: Scores, threshold: float = 0.5) -> float | None:
    """Share of actual positives the model flags at its decision threshold."""
    tp, _, fn, _ = _confusion(labels, scores, threshold)
    return tp / (tp + fn) if tp + fn else None


def precision(labels: Labels, scores: Scores, threshold: float = 0.5) -> float | None:
    """Share of flagged rows that are actual positives."""
    tp, fp, _, _ = _confusion(labels, scores, threshold)
    return tp / (tp + fp) if tp + fp else None


def f1(labels: Labels, scores: Scores, threshold: float = 0.5) -> float | None:
    """Harmonic mean of precision and recall."""
    tp, fp, fn, _ = _confusion(labels, scores, threshold)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def accuracy(labels: Labels, scores: Scores, threshold: float = 0.5) -> float | None:
    """Share of rows classified correctly."""
    tp, _, _, tn = _confusion(labels, scores, threshold)
    return (tp + tn) / labels.size if labels.size else None


# Metrics where higher is better, named as in metrics/metrics.json.
METRICS: dict[str, Callable[[Labels, Scores, float], float | None]] = {
    "roc_auc": roc_auc,
    "recall": recall,
    "precision": precision,
    "f1": f1,
    "accuracy": accuracy,
}


@dataclass(frozen=True)
class MetricCheck:
    """One metric, live against training; `degraded` when it fell by more than allowed."""

    name: str
    training: float | None
    live: float | None
    max_drop: float

    @property
    def drop(self) -> float | None:
        """How much lower the live value is (negative: it improved)."""
        if self.training is None or self.live is None:
            return None
        return self.training - self.live

    @property
    def degraded(self) -> bool:
        """True when the drop exceeds the tolerance."""
        return self.drop is not None and self.drop > self.max_drop


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


def compare_live_metrics(
    labels: Labels,
    scores: Scores,
    training: Mapping[str, float],
    max_drop: Mapping[str, float],
    *,
    threshold: float = 0.5,
    min_rows: int = 1,
) -> ConceptResult:
    """Compute each configured metric on the labelled rows and compare it with training.

    Metrics absent from the training metrics are reported but cannot fail.
    """
    rows, positives = int(labels.size), int(labels.sum())
    if rows < min_rows:
        return ConceptResult(
            rows, positives, note=f"{rows} labelled rows, fewer than the {min_rows} needed"
        )
    checks = tuple(
        MetricCheck(
            name=name,
            training=training.get(name),
            live=METRICS[name](labels, scores, threshold),
            max_drop=tolerance,
        )
        for name, tolerance in max_drop.items()
    )
    note = None
    if positives in (0, rows):
        note = "labels hold a single class: ranking metrics are undefined"
    return ConceptResult(rows, positives, checks, note)
