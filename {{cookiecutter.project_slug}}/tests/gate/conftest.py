"""Synthetic metrics documents shaped like the ones `train` writes."""

from __future__ import annotations

import copy
from typing import Any


def metrics_document(**overrides: float) -> dict[str, Any]:
    metrics = {
        "roc_auc": 0.84,
        "pr_auc": 0.63,
        "f1": 0.60,
        "precision": 0.55,
        "recall": 0.66,
        "accuracy": 0.78,
        "log_loss": 0.42,
        "brier": 0.14,
    }
    metrics.update(overrides)
    return {
        "model": {"estimator": "LogisticRegression", "size_bytes": 200_000, "threshold": 0.5},
        "data": {
            "fingerprint": "a" * 64,
            "contract": "c" * 12,
            "rows": {"train": 5634, "test": 1409},
            "test_ids_fingerprint": "b" * 64,
        },
        "metrics": metrics,
        "slices": {
            "Contract": {
                "Month-to-month": {"n": 775, "positive_rate": 0.43, "roc_auc": 0.75, "recall": 0.8},
                "One year": {"n": 295, "positive_rate": 0.11, "roc_auc": 0.77, "recall": 0.3},
                "Two year": {"n": 339, "positive_rate": 0.03, "roc_auc": 0.80, "recall": 0.1},
            },
            "gender": {
                "Female": {"n": 700, "positive_rate": 0.27, "roc_auc": 0.84, "recall": 0.65},
                "Male": {"n": 709, "positive_rate": 0.26, "roc_auc": 0.84, "recall": 0.67},
            },
        },
        "latency_ms": {"p50": 4.0, "p95": 6.0},
    }


def modified(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Copy of doc with the dotted path set to value (slice keys may contain spaces)."""
    result = copy.deepcopy(doc)
    *parents, last = path.split("/")
    node = result
    for key in parents:
        node = node[key]
    node[last] = value
    return result
