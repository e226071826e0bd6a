from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.datasets import (
    fields_per_line,
    read_raw,
)
from {{ cookiecutter.package_name }}.contract.model import (
    DataContract,
)
from {{ cookiecutter.package_name }}.validation.frames import (
    derived_view,
    file_view,
)
from {{ cookiecutter.package_name }}.validation.plan import (
    FIELDS_MISSING,
    positive_indicator,
)
from {{ cookiecutter.package_name }}.validation.rules import (
    DataRules,
)

from .. import toy


@pytest.fixture(scope="module")
def contract() -> DataContract:
    return toy.contract()


@pytest.fixture(scope="module")
def rules() -> DataRules:
    return toy.rules()


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return toy.raw(50)


def test_file_view_keeps_the_files_columns_and_text(
    raw: pd.DataFrame, contract: DataContract
) -> None:
    messy = raw.assign(extra="x")
    messy.loc[0, "tenure"] = "ten"
    messy.loc[1, "TotalCharges"] = " "  # a declared missing value of TotalCharges
    messy.loc[2, "gender"] = ""  # an empty field is blank in every column
    messy.loc[3, "gender"] = " "  # but a space is only blank where the contract says so
    text = file_view(messy, contract)
    assert list(text.columns) == list(messy.columns)
    assert text.loc[0, "tenure"] == "ten"
    assert text.loc[1, "TotalCharges"] is None
    assert text.loc[2, "gender"] is None
    assert text.loc[3, "gender"] == " "


def test_file_view_writes_typed_parquet_values_as_the_csv_would(contract: DataContract) -> None:
    typed = pd.DataFrame(
        {
            "SeniorCitizen": [0.0, 1.0, np.nan],
            "MonthlyCharges": [29.85, 56.95, 1.0],
            "gender": ["Male", None, "Female"],
        }
    )
    text = file_view(typed, contract)
    assert text["SeniorCitizen"].tolist() == ["0", "1", None]
    assert text["MonthlyCharges"].tolist() == ["29.85", "56.95", "1"]
    assert text["gender"].tolist() == ["Male", None, "Female"]


def test_derived_view_parses_numbers_and_computes_rule_columns(
    raw: pd.DataFrame, contract: DataContract, rules: DataRules
) -> None:
    messy = raw.copy()
    messy.loc[0, "tenure"] = "ten"
    messy.loc[1, "TotalCharges"] = " "
    text = file_view(messy, contract)
    derived = derived_view(messy, text, contract, rules)
    assert np.isnan(derived.loc[0, "tenure"])  # reported by the file view's type check
    assert derived["MonthlyCharges"].dtype == "float64"
    indicator = derived[positive_indicator(contract)]
    assert set(indicator.unique()) <= {0.0, 1.0}
    assert indicator.mean() == (messy["Churn"] == "Yes").mean()
    blank_rule, product_rule = (r.derived_column for r in reversed(rules.rules))
    assert derived[blank_rule].notna().sum() == text["TotalCharges"].isna().sum()  # blank totals
    assert derived[product_rule].max() <= 0.5
    assert (derived[FIELDS_MISSING] == 0).all()
    assert derived["customerID"].tolist() == messy["customerID"].tolist()


def test_columns_missing_from_the_file_leave_their_derived_columns_out(
    raw: pd.DataFrame, contract: DataContract, rules: DataRules
) -> None:
    short = raw.drop(columns=["tenure", "Churn"])
    derived = derived_view(short, file_view(short, contract), contract, rules)
    assert "tenure" not in derived.columns
    assert positive_indicator(contract) not in derived.columns
    assert not any(r.derived_column in derived.columns for r in rules.rules)


def test_short_lines_are_counted_from_the_file(tmp_path: Path, contract: DataContract) -> None:
    path = tmp_path / "short.csv"
    path.write_text('a,b,c\n1,2,3\n\n4\n5,"x\ny",6\n7,,\n')
    raw = read_raw(path)
    fields = fields_per_line(path)
    assert fields.tolist() == [3, 1, 3, 3]  # blank line skipped, quoted newline kept
    derived = derived_view(raw, file_view(raw, contract), contract, DataRules(), fields)
    assert derived[FIELDS_MISSING].tolist() == [0, 2, 0, 0]
