"""Behavioural tests: invariance, directional expectations and minimum functionality."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.train import checks
from {{ cookiecutter.package_name }}.train.config import (
    DirectionalCase,
    MinimumFunctionalityCase,
    TrainingConfig,
)


def test_invariance_to_the_id_column(
    model: Any, test_rows: pd.DataFrame, contract: DataContract
) -> None:
    if contract.id_column is None:
        pytest.skip("the data contract declares no id column")
    result = checks.check_id_invariance(model, test_rows, contract.id_column)
    assert result.passed, result.message


def test_directional(
    model: Any, test_rows: pd.DataFrame, directional_case: DirectionalCase
) -> None:
    result = checks.check_directional(model, test_rows, directional_case)
    assert result.passed, result.message


def test_minimum_functionality(
    model: Any,
    test_rows: pd.DataFrame,
    contract: DataContract,
    config: TrainingConfig,
    mft_case: MinimumFunctionalityCase,
) -> None:
    base = checks.typical_row(test_rows, contract)
    result = checks.check_minimum_functionality(model, base, mft_case, config.threshold)
    assert result.passed, result.message
