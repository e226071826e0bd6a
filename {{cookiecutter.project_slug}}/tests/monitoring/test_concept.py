from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from {{ cookiecutter.package_name }}.monitoring.concept import (
    METRICS,
    ConceptResult,
    compare_live_metrics,
    standard_error,
)


@pytest.fixture(scope="module")
def labelled() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    labels = rng.random(3000) < 0.3
    scores = np.clip(labels * 0.3 + rng.random(3000) * 0.7, 0, 1).round(2)  # ties on purpose
    return labels, scores


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("roc_auc", sk.roc_auc_score),
        ("recall", lambda y, s: sk.recall_score(y, s >= 0.5)),
        ("precision", lambda y, s: sk.precision_score(y, s >= 0.5)),
        ("f1", lambda y, s: sk.f1_score(y, s >= 0.5)),
        ("accuracy", lambda y, s: sk.accuracy_score(y, s >= 0.5)),
    ],
)
def test_metrics_agree_with_scikit_learn(
    labelled: tuple[np.ndarray, np.ndarray], name: str, reference: object
) -> None:
    labels, scores = labelled
    assert METRICS[name](labels, scores, 0.5) == pytest.approx(reference(labels, scores))  # type: ignore[operator]


def test_single_class_has_no_auc() -> None:
    assert METRICS["roc_auc"](np.ones(10, dtype=bool), np.linspace(0, 1, 10), 0.5) is None


def judged(result: ConceptResult) -> ConceptResult:
    return result.judged([c.p_value for c in result.checks], alpha=0.05)


def test_a_clear_drop_beyond_tolerance_is_flagged(
    labelled: tuple[np.ndarray, np.ndarray],
) -> None:
    labels, scores = labelled
    live_auc = METRICS["roc_auc"](labels, scores, 0.5)
    assert live_auc is not None
    result = judged(
        compare_live_metrics(
            labels,
            scores,
            {"roc_auc": live_auc + 0.12, "recall": 0.0},
            {"roc_auc": 0.05, "recall": 0.1},
        )
    )
    assert [c.name for c in result.degraded] == ["roc_auc"]
    auc = result.checks[0]
    assert auc.drop == pytest.approx(0.12)
    assert auc.p_value < 1e-6


def test_a_drop_within_tolerance_passes(labelled: tuple[np.ndarray, np.ndarray]) -> None:
    labels, scores = labelled
    live_auc = METRICS["roc_auc"](labels, scores, 0.5)
    assert live_auc is not None
    result = judged(
        compare_live_metrics(labels, scores, {"roc_auc": live_auc + 0.04}, {"roc_auc": 0.05})
    )
    assert result.degraded == []
    assert result.checks[0].p_value > 0.5


def test_a_drop_on_few_labels_is_noise_not_concept_drift(
    labelled: tuple[np.ndarray, np.ndarray],
) -> None:
    labels, scores = labelled[0][:120], labelled[1][:120]
    live_recall = METRICS["recall"](labels, scores, 0.5)
    assert live_recall is not None
    result = judged(
        compare_live_metrics(labels, scores, {"recall": live_recall + 0.12}, {"recall": 0.1})
    )
    assert result.checks[0].drop == pytest.approx(0.12)
    assert result.degraded == []  # 0.02 beyond tolerance on ~36 positives is within noise


@pytest.mark.parametrize("name", ["roc_auc", "recall", "precision", "f1", "accuracy"])
def test_standard_errors_match_the_bootstrap(
    labelled: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    labels, scores = labelled[0][:800], labelled[1][:800]
    rng = np.random.default_rng(0)
    values = []
    for _ in range(400):
        rows = rng.integers(0, labels.size, labels.size)
        values.append(METRICS[name](labels[rows], scores[rows], 0.5))
    error = standard_error(name, labels, scores, 0.5)
    assert error == pytest.approx(float(np.std(values)), rel=0.25)


def test_metric_missing_from_training_cannot_fail(labelled: tuple[np.ndarray, np.ndarray]) -> None:
    labels, scores = labelled
    result = compare_live_metrics(labels, scores, {}, {"roc_auc": 0.05})
    assert result.checks[0].training is None
    assert result.degraded == []


def test_too_few_labels_are_not_judged(labelled: tuple[np.ndarray, np.ndarray]) -> None:
    labels, scores = labelled
    result = compare_live_metrics(
        labels[:50], scores[:50], {"roc_auc": 0.99}, {"roc_auc": 0.05}, min_rows=200
    )
    assert result.checks == ()
    assert result.note is not None
    assert "fewer than the 200" in result.note
