"""The training data must satisfy the data contract before anything trains on it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.io.datasets import read_raw, to_typed

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def contract() -> DataContract:
    return load_contract(PROJECT_DIR / "config" / "data_contract.yaml")


@pytest.fixture(scope="module")
def frame(contract: DataContract) -> pd.DataFrame:
    return to_typed(read_raw(PROJECT_DIR / "data" / "raw" / "telco_customer_churn.csv"), contract)


def test_row_count_within_bounds(frame: pd.DataFrame, contract: DataContract) -> None:
    assert contract.rows.min is not None
    assert len(frame) >= contract.rows.min


def test_ids_unique(frame: pd.DataFrame, contract: DataContract) -> None:
    assert contract.id_column is not None
    assert frame[contract.id_column].is_unique


def test_numeric_ranges(frame: pd.DataFrame, contract: DataContract) -> None:
    for name, spec in contract.numeric.items():
        values = frame[name].dropna()
        assert spec.min is None or values.min() >= spec.min, name
        assert spec.max is None or values.max() <= spec.max, name


def test_categories_known(frame: pd.DataFrame, contract: DataContract) -> None:
    for name, spec in contract.categorical.items():
        unknown = set(frame[name].unique()) - set(spec.values)
        assert not unknown, f"{name}: unknown values {unknown}"


def test_target_labels_and_balance(frame: pd.DataFrame, contract: DataContract) -> None:
    target = contract.target
    assert set(frame[target.column].unique()) <= set(target.labels)
    rate = (frame[target.column] == target.positive).mean()
    assert target.positive_rate.min is not None
    assert target.positive_rate.max is not None
    assert target.positive_rate.min <= rate <= target.positive_rate.max
