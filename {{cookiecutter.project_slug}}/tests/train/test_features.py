from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.train.config import EstimatorSpec, TrainingConfigError
from {{ cookiecutter.package_name }}.train.estimator import build_estimator
from {{ cookiecutter.package_name }}.train.features import (
    build_pipeline,
    build_preprocessor,
)

from .. import toy


@pytest.fixture(scope="module")
def contract() -> DataContract:
    return toy.contract()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return toy.typed(500)


def test_preprocessor_encodes_every_contract_category(
    contract: DataContract, frame: pd.DataFrame
) -> None:
    pre = build_preprocessor(contract).fit(frame)
    width = len(contract.numeric) + sum(len(c.values) for c in contract.categorical.values())
    assert pre.transform(frame).shape == (len(frame), width)
    names = list(pre.get_feature_names_out())
    assert contract.id_column not in names
    assert contract.target.column not in names


def test_unknown_category_is_ignored_not_an_error(
    contract: DataContract, frame: pd.DataFrame
) -> None:
    pre = build_preprocessor(contract).fit(frame)
    row = frame.head(1).copy()
    row["Contract"] = "Lifetime"
    encoded = pre.transform(row)
    contract_columns = [n for n in pre.get_feature_names_out() if n.startswith("Contract_")]
    positions = [list(pre.get_feature_names_out()).index(n) for n in contract_columns]
    assert np.all(encoded[0, positions] == 0)


def test_pipeline_fits_and_predicts(contract: DataContract, frame: pd.DataFrame) -> None:
    spec = EstimatorSpec(name="sklearn.linear_model.LogisticRegression", params={"max_iter": 500})
    pipeline = build_pipeline(contract, build_estimator(spec, seed=0))
    labels = (frame["Churn"] == "Yes").astype(int)
    pipeline.fit(frame[contract.feature_columns], labels)
    proba = pipeline.predict_proba(frame)
    assert proba.shape == (len(frame), 2)


def test_seed_becomes_random_state_unless_given() -> None:
    spec = EstimatorSpec(name="sklearn.dummy.DummyClassifier")
    assert build_estimator(spec, seed=7).random_state == 7
    given = EstimatorSpec(name="sklearn.dummy.DummyClassifier", params={"random_state": 3})
    assert build_estimator(given, seed=7).random_state == 3


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (EstimatorSpec(name="sklearn.nope.Model"), "cannot import module 'sklearn.nope'"),
        (EstimatorSpec(name="sklearn.linear_model.Nope"), "has no class named 'Nope'"),
        (EstimatorSpec(name="sklearn.preprocessing.StandardScaler"), "not a classifier"),
        (
            EstimatorSpec(name="sklearn.linear_model.LogisticRegression", params={"depth": 3}),
            r"does not accept parameter\(s\) \['depth'\]",
        ),
    ],
)
def test_bad_estimator_is_named(spec: EstimatorSpec, message: str) -> None:
    with pytest.raises(TrainingConfigError, match=message):
        build_estimator(spec, seed=0)
