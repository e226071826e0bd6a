"""Simulated drifts are detected and named; undrifted resamples rarely alarm."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.monitoring.config import DriftConfig
from {{ cookiecutter.package_name }}.monitoring.detect import (
    SCORE_NAME,
    DriftResult,
    detect_drift,
)
from {{ cookiecutter.package_name }}.monitoring.frames import (
    Sample,
    categorical_view,
    feature_view,
)
from {{ cookiecutter.package_name }}.monitoring.simulate import simulate

from ..conftest import a_categorical
from .conftest import (
    contract,
    drift_config,
    positive_scores,
    raw_sample,
    reference_sample,
    roles,
    shifted_columns,
    trained,
)

FEATURE_ROLES = {"numeric", "categorical"}


@pytest.fixture(scope="module")
def config() -> DriftConfig:
    return drift_config()


@pytest.fixture(scope="module")
def scored_reference() -> Sample:
    reference = reference_sample()
    return dataclasses.replace(reference, scores=positive_scores(reference.features))


def sample_of(raw: pd.DataFrame, scored: bool = True) -> Sample:
    spec = contract()
    features = feature_view(raw, spec)
    return Sample(
        features=features,
        labels=categorical_view(raw[spec.target.column]) if spec.target.column in raw else None,
        scores=positive_scores(features) if scored else None,
    )


def check(reference: Sample, current: Sample, config: DriftConfig) -> DriftResult:
    _, record = trained()
    metrics = record.model_dump()
    return detect_drift(reference, current, contract(), config, training_metrics=metrics["metrics"])


def drifted_features(result: DriftResult) -> set[str]:
    return {c.column for c in result.columns if c.status == "drift" and c.role in FEATURE_ROLES}


def simulated(kind: str, config: DriftConfig, seed: int | None = None) -> pd.DataFrame:
    spec = config.simulation
    return simulate(
        raw_sample(),
        contract(),
        kind,  # type: ignore[arg-type]
        rows=spec.rows,
        seed=spec.seed if seed is None else seed,
        factors=spec.data_drift,
        segment=spec.concept_drift.segment if spec.concept_drift else None,
    )


def test_data_drift_is_detected_and_names_the_shifted_columns(
    scored_reference: Sample, config: DriftConfig
) -> None:
    result = check(scored_reference, sample_of(simulated("data", config)), config)
    assert result.failed
    assert drifted_features(result) == shifted_columns()
    assert SCORE_NAME in result.drifted_columns  # the model reacts to the shift
    for column in shifted_columns():
        assert column in result.headline()


def test_data_drift_is_detected_without_a_model(config: DriftConfig) -> None:
    current = sample_of(simulated("data", config), scored=False)
    result = detect_drift(reference_sample(), current, contract(), config)
    assert drifted_features(result) == shifted_columns()
    assert SCORE_NAME not in [c.column for c in result.columns]


def test_concept_drift_is_detected_by_live_metrics(
    scored_reference: Sample, config: DriftConfig
) -> None:
    result = check(scored_reference, sample_of(simulated("concept", config)), config)
    assert result.failed
    assert drifted_features(result) == set()  # the inputs did not change...
    assert "roc_auc" in result.degraded_metrics  # ...the relation to the outcome did
    assert result.concept is not None
    auc = next(c for c in result.concept.checks if c.name == "roc_auc")
    assert auc.live is not None
    assert auc.training is not None
    assert auc.training - auc.live > 0.1
    assert "concept drift: roc_auc" in result.headline()


def test_a_plain_resample_is_not_drift(scored_reference: Sample, config: DriftConfig) -> None:
    result = check(scored_reference, sample_of(simulated("none", config)), config)
    assert not result.failed, result.headline()
    assert result.degraded_metrics == []


@pytest.mark.slow
def test_bootstrap_resamples_rarely_alarm(scored_reference: Sample, config: DriftConfig) -> None:
    """The false-alarm rate on undrifted data stays within alpha (at most 5 % of runs)."""
    resamples, rows = 40, 2000
    rng = np.random.default_rng(20261126)
    _, record = trained()
    metrics = record.model_dump()
    started = time.perf_counter()
    alarms = []
    for _ in range(resamples):
        rows_drawn = rng.integers(0, scored_reference.rows, size=rows)
        assert scored_reference.labels is not None
        assert scored_reference.scores is not None
        current = Sample(
            features=scored_reference.features.iloc[rows_drawn].reset_index(drop=True),
            labels=scored_reference.labels.iloc[rows_drawn].reset_index(drop=True),
            scores=scored_reference.scores[rows_drawn],
        )
        result = detect_drift(
            scored_reference, current, contract(), config, training_metrics=metrics["metrics"]
        )
        if result.failed:
            alarms.append(result.headline())
    elapsed = time.perf_counter() - started
    print(f"false alarms: {len(alarms)}/{resamples} in {elapsed:.1f}s")
    assert len(alarms) <= 0.05 * resamples, alarms


def test_missing_value_drift(config: DriftConfig) -> None:
    column = roles().numeric
    raw = simulated("none", config).copy()
    raw.loc[raw.index[:300], column] = ""  # an empty field is blank in every column
    result = detect_drift(reference_sample(), sample_of(raw, scored=False), contract(), config)
    assert result.missing_drifted == [column]
    assert result.failed
    assert f"missing-value drift in {column}" in result.headline()


def test_unseen_category_is_named(config: DriftConfig) -> None:
    categorical = a_categorical()
    raw = simulated("none", config).copy()
    raw.loc[raw.index[:200], categorical] = "Crypto wallet"
    result = detect_drift(reference_sample(), sample_of(raw, scored=False), contract(), config)
    column = next(c for c in result.columns if c.column == categorical)
    assert column.status == "drift"
    assert column.unseen == ("Crypto wallet",)
    assert any("outside the contract: Crypto wallet" in r for r in column.reasons)


def test_moderate_psi_without_significance_is_a_warning(config: DriftConfig) -> None:
    """The smallest shift of a simulated column that moves its PSI into the warning band."""
    lenient = config.model_copy(update={"alpha": 1e-300})
    column = sorted(shifted_columns())[0]
    for step in range(1, 40):
        factor = 1 + step / 100
        raw = simulate(
            raw_sample(), contract(), "data", rows=2000, seed=7, factors={column: factor}
        )
        result = detect_drift(reference_sample(), sample_of(raw, scored=False), contract(), lenient)
        if result.status != "ok":
            break
    assert result.status == "warn", f"{column} x{factor}: {result.headline()}"
    assert result.warned_columns == [column]
    assert not result.failed


def test_too_few_rows_are_not_judged(config: DriftConfig) -> None:
    raw = simulated("data", config).head(config.min_rows - 1)
    result = detect_drift(reference_sample(), sample_of(raw, scored=False), contract(), config)
    assert result.status == "insufficient_data"
    assert not result.failed
    assert result.columns == ()


def test_excluded_columns_are_not_checked(config: DriftConfig) -> None:
    quiet = config.model_copy(update={"exclude": tuple(shifted_columns())})
    raw = simulated("data", config)
    result = detect_drift(reference_sample(), sample_of(raw, scored=False), contract(), quiet)
    assert not shifted_columns() & {c.column for c in result.columns}
    assert drifted_features(result) == set()
