from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.train.metrics import (
    METRIC_NAMES,
    MISSING,
    classification_metrics,
    slice_gap,
    slice_metrics,
    slice_status,
)
from {{ cookiecutter.package_name }}.train.tables import metrics_table, slices_table


def test_known_values() -> None:
    y = [0, 0, 1, 1]
    p = [0.1, 0.6, 0.4, 0.9]
    m = classification_metrics(y, p, threshold=0.5)
    assert set(m) == set(METRIC_NAMES)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    expected_log_loss = -(math.log(0.9) + math.log(0.4) + math.log(0.4) + math.log(0.9)) / 4
    assert m["log_loss"] == pytest.approx(expected_log_loss)


def test_threshold_moves_decisions_not_ranking() -> None:
    y = [0, 0, 1, 1]
    p = [0.1, 0.3, 0.4, 0.9]
    low, high = classification_metrics(y, p, 0.35), classification_metrics(y, p, 0.5)
    assert low["roc_auc"] == high["roc_auc"] == 1.0
    assert low["recall"] == 1.0
    assert high["recall"] == 0.5


def test_single_class_is_refused() -> None:
    with pytest.raises(ValueError, match="both classes"):
        classification_metrics([1, 1], [0.2, 0.9], 0.5)


def test_slice_status() -> None:
    assert slice_status(np.array([1, 1, 1]), 1, 1) == "single_class"
    assert slice_status(np.array([0, 1] * 5), 20, 1) == "too_small"
    assert slice_status(np.array([0] * 30 + [1] * 3), 10, 5) == "too_small"
    assert slice_status(np.array([0] * 30 + [1] * 10), 10, 5) == "scored"


def _slices() -> dict[str, dict[str, dict[str, float | int | str | None]]]:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"group": ["a"] * 200 + ["b"] * 190 + ["c"] * 10})
    y = rng.integers(0, 2, n)
    p = np.clip(y * 0.6 + rng.normal(0.2, 0.2, n), 0, 1)
    return slice_metrics(
        frame, y, p, threshold=0.5, columns=("group",), min_rows=30, min_positives=5
    )


def test_slices_report_every_value_and_score_only_large_ones() -> None:
    slices = _slices()["group"]
    assert set(slices) == {"a", "b", "c"}
    assert slices["a"]["status"] == "scored"
    assert isinstance(slices["a"]["roc_auc"], float)
    assert slices["c"]["status"] == "too_small"
    assert slices["c"]["roc_auc"] is None
    assert slices["c"]["n"] == 10


def test_missing_values_form_their_own_slice() -> None:
    frame = pd.DataFrame({"group": ["a", "a", None, None]})
    slices = slice_metrics(
        frame,
        [0, 1, 0, 1],
        [0.2, 0.8, 0.4, 0.6],
        threshold=0.5,
        columns=("group",),
        min_rows=1,
        min_positives=1,
    )["group"]
    assert slices["a"]["n"] == 2
    assert slices[MISSING]["n"] == 2
    assert slices[MISSING]["roc_auc"] == 1.0


def test_slice_gap_uses_scored_slices_only() -> None:
    slices = _slices()["group"]
    found = slice_gap(slices, "roc_auc")
    assert found is not None
    gap, best, worst = found
    assert {best, worst} == {"a", "b"}
    assert gap == pytest.approx(abs(float(slices["a"]["roc_auc"]) - float(slices["b"]["roc_auc"])))  # type: ignore[arg-type]
    assert slice_gap({"a": slices["a"], "c": slices["c"]}, "roc_auc") is None


def test_tables_render_every_metric_and_slice() -> None:
    table = metrics_table(classification_metrics([0, 1, 0, 1], [0.2, 0.8, 0.3, 0.7], 0.5))
    for name in METRIC_NAMES:
        assert name in table
    text = slices_table(_slices())
    assert "group=a" in text
    assert "(too_small)" in text
