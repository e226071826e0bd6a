"""Classification metrics, overall and per slice, from labels and probabilities.

Probability-based metrics (ROC-AUC, PR-AUC, log loss, Brier) judge the ranking
and the calibration; threshold-based ones (F1, precision, recall, accuracy)
judge the decisions actually taken at the configured threshold. Slices too
small or with a single class are reported with their size but not scored,
because a metric on five rows says nothing and would make the gate flaky.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

SliceStatus = Literal["scored", "too_small", "single_class"]
METRIC_NAMES = ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier")
# Lower is better for these; higher is better for every other metric.
LOWER_IS_BETTER = frozenset({"log_loss", "brier"})
# Slice name of the rows where the slice column is missing.
MISSING = "<missing>"
# One slice's entry: n, positive_rate, status and every metric (None when not scored).
SliceEntry = dict[str, float | int | str | None]
# Per column, per value (as text): the slice's entry.
SliceTable = dict[str, dict[str, SliceEntry]]


def classification_metrics(
    y_true: npt.ArrayLike, proba: npt.ArrayLike, threshold: float
) -> dict[str, float]:
    """Every metric of METRIC_NAMES; both classes must be present in `y_true`.

    Raises:
        ValueError: `y_true` holds a single class (ROC-AUC is undefined).
    """
    from sklearn import metrics

    truth = np.asarray(y_true, dtype=int)
    scores = np.asarray(proba, dtype=float)
    if len(np.unique(truth)) < 2:
        raise ValueError("metrics need both classes in y_true")
    predicted = (scores >= threshold).astype(int)
    return {
        "roc_auc": float(metrics.roc_auc_score(truth, scores)),
        "pr_auc": float(metrics.average_precision_score(truth, scores)),
        "f1": float(metrics.f1_score(truth, predicted, zero_division=0)),
        "precision": float(metrics.precision_score(truth, predicted, zero_division=0)),
        "recall": float(metrics.recall_score(truth, predicted, zero_division=0)),
        "accuracy": float(metrics.accuracy_score(truth, predicted)),
        "log_loss": float(metrics.log_loss(truth, scores, labels=[0, 1])),
        "brier": float(metrics.brier_score_loss(truth, scores)),
    }


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
