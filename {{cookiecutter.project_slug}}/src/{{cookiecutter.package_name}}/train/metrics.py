"""Classification metrics, overall and per slice, from labels and probabilities.

Probability-based metrics (ROC-AUC, PR-AUC, log loss, Brier) judge the ranking
and the calibration; threshold-based ones (F1, precision, recall, accuracy)
judge the decisions actually taken at the configured threshold. Slices too
small or with a single class are reported with their size but not scored,
because a metric on five rows says nothing and would make the gate flaky.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

SliceStatus = Literal["scored", "too_small", "single_class"]
# Slice name of the rows where the slice column is missing.
MISSING = "<missing>"
# One slice's entry: n, positive_rate, status and every metric (None when not scored).
SliceEntry = dict[str, float | int | str | None]
# Per column, per value (as text): the slice's entry.
SliceTable = dict[str, dict[str, SliceEntry]]
Labels = npt.NDArray[np.int_]
Scores = npt.NDArray[np.float64]


def _counts(truth: Labels, scores: Scores, threshold: float) -> tuple[int, int, int, int]:
    """True positives, false positives, false negatives, true negatives at `threshold`."""
    predicted = scores >= threshold
    actual = truth.astype(bool)
    return (
        int(np.sum(predicted & actual)),
        int(np.sum(predicted & ~actual)),
        int(np.sum(~predicted & actual)),
        int(np.sum(~predicted & ~actual)),
    )


def _both_classes(truth: Labels) -> bool:
    return 0 < int(truth.sum()) < truth.size


def _roc_auc(truth: Labels, scores: Scores, threshold: float) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(truth, scores)) if _both_classes(truth) else None


def _pr_auc(truth: Labels, scores: Scores, threshold: float) -> float | None:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(truth, scores)) if _both_classes(truth) else None


def _precision(truth: Labels, scores: Scores, threshold: float) -> float | None:
    tp, fp, _, _ = _counts(truth, scores, threshold)
    return tp / (tp + fp) if tp + fp else None


def _recall(truth: Labels, scores: Scores, threshold: float) -> float | None:
    tp, _, fn, _ = _counts(truth, scores, threshold)
    return tp / (tp + fn) if tp + fn else None


def _f1(truth: Labels, scores: Scores, threshold: float) -> float | None:
    tp, fp, fn, _ = _counts(truth, scores, threshold)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def _accuracy(truth: Labels, scores: Scores, threshold: float) -> float | None:
    tp, _, _, tn = _counts(truth, scores, threshold)
    return (tp + tn) / truth.size if truth.size else None


def _log_loss(truth: Labels, scores: Scores, threshold: float) -> float | None:
    from sklearn.metrics import log_loss

    return float(log_loss(truth, scores, labels=[0, 1])) if truth.size else None


def _brier(truth: Labels, scores: Scores, threshold: float) -> float | None:
    from sklearn.metrics import brier_score_loss

    return float(brier_score_loss(truth, scores)) if truth.size else None


@dataclass(frozen=True)
class Metric:
    """One quality metric: how it is computed and which direction is better.

    Training, the gate, the model tests and concept-drift checks all take their
    metrics from `METRICS`, so a metric means the same thing everywhere.
    """

    name: str
    compute: Callable[[Labels, Scores, float], float | None]
    higher_is_better: bool = True
    description: str = ""

    def __call__(
        self, y_true: npt.ArrayLike, proba: npt.ArrayLike, threshold: float
    ) -> float | None:
        """The metric on 0/1 labels and positive-class probabilities; None where undefined."""
        truth = np.asarray(y_true, dtype=int)
        scores = np.asarray(proba, dtype=float)
        return self.compute(truth, scores, threshold)

    def worsening(self, baseline: float, candidate: float) -> float:
        """How much worse `candidate` is than `baseline` (positive = worse)."""
        return baseline - candidate if self.higher_is_better else candidate - baseline

    def meets(self, value: float, bound: float) -> bool:
        """`value` is at least as good as `bound` (a floor, or a ceiling if lower is better)."""
        return value >= bound if self.higher_is_better else value <= bound


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", _roc_auc, description="ranking: P(positive scores above negative)"),
        Metric("pr_auc", _pr_auc, description="average precision over all thresholds"),
        Metric("f1", _f1, description="harmonic mean of precision and recall at the threshold"),
        Metric("precision", _precision, description="share of flagged rows that are positive"),
        Metric("recall", _recall, description="share of positives flagged at the threshold"),
        Metric("accuracy", _accuracy, description="share of rows classified correctly"),
        Metric("log_loss", _log_loss, higher_is_better=False, description="calibration"),
        Metric("brier", _brier, higher_is_better=False, description="mean squared error of p"),
    )
}
METRIC_NAMES = tuple(METRICS)
LOWER_IS_BETTER = frozenset(name for name, m in METRICS.items() if not m.higher_is_better)


def metric(name: str) -> Metric:
    """The metric called `name`.

    Raises:
        KeyError: no such metric (the message lists the known ones).
    """
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRIC_NAMES)}") from None


def classification_metrics(
    y_true: npt.ArrayLike, proba: npt.ArrayLike, threshold: float
) -> dict[str, float]:
    """Every metric of METRICS; both classes must be present in `y_true`.

    Raises:
        ValueError: `y_true` holds a single class (ROC-AUC is undefined).
    """
    truth = np.asarray(y_true, dtype=int)
    scores = np.asarray(proba, dtype=float)
    if len(np.unique(truth)) < 2:
        raise ValueError("metrics need both classes in y_true")
    return {name: float(m.compute(truth, scores, threshold) or 0.0) for name, m in METRICS.items()}


def slice_status(y_true: npt.NDArray[np.int_], min_rows: int, min_positives: int) -> SliceStatus:
    """Whether a slice has enough rows and enough of each class to be scored."""
    positives = int(y_true.sum())
    negatives = len(y_true) - positives
    if positives == 0 or negatives == 0:
        return "single_class"
    if len(y_true) < min_rows or min(positives, negatives) < min_positives:
        return "too_small"
    return "scored"


def slice_metrics(
    frame: pd.DataFrame,
    y_true: npt.ArrayLike,
    proba: npt.ArrayLike,
    *,
    threshold: float,
    columns: tuple[str, ...],
    min_rows: int,
    min_positives: int,
) -> SliceTable:
    """Per column, per value: size, positive rate, status, and every metric (None if unscored)."""
    import pandas as pd  # the gate and the CLI read the metric table without pandas

    truth = np.asarray(y_true, dtype=int)
    scores = np.asarray(proba, dtype=float)
    result: SliceTable = {}
    for column in columns:
        values = frame[column].to_numpy()
        per_value: dict[str, SliceEntry] = {}
        for value in sorted(pd.unique(values), key=str):
            mask = pd.isna(values) if pd.isna(value) else values == value
            status = slice_status(truth[mask], min_rows, min_positives)
            entry: SliceEntry = {
                "n": int(mask.sum()),
                "positive_rate": float(truth[mask].mean()),
                "status": status,
            }
            if status == "scored":
                entry.update(classification_metrics(truth[mask], scores[mask], threshold))
            else:
                entry.update(dict.fromkeys(METRIC_NAMES))
            per_value[MISSING if pd.isna(value) else str(value)] = entry
        result[column] = per_value
    return result


def slice_gap(per_value: dict[str, SliceEntry], metric: str) -> tuple[float, str, str] | None:
    """Largest difference of `metric` between the scored slices of one column.

    Returns:
        (gap, best value, worst value), or None when fewer than two slices were scored.
    """
    scored: dict[str, float] = {}
    for value, entry in per_value.items():
        score = entry.get(metric)
        if entry.get("status") == "scored" and isinstance(score, int | float):
            scored[value] = float(score)
    if len(scored) < 2:
        return None
    best = max(scored, key=lambda v: scored[v])
    worst = min(scored, key=lambda v: scored[v])
    return scored[best] - scored[worst], best, worst
