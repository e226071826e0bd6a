from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.datasets import (
    DataFileError,
    fingerprint,
    read_as_text,
    read_raw,
    to_typed,
)
from {{ cookiecutter.package_name }}.contract.model import load_contract

from .. import toy
from ..conftest import roles


def test_configured_data_reads_and_types(sample_path: Path, contract_path: Path) -> None:
    contract = load_contract(contract_path)
    raw = read_raw(sample_path)
    typed = to_typed(raw, contract)
    assert len(typed) == len(raw)
    assert list(typed.columns) == contract.columns
    for name, spec in contract.numeric.items():
        assert typed[name].dtype == "float64"
        if spec.fill_missing is not None:  # blanks are filled as the contract says
            assert typed[name].notna().all(), name
    for name, spec in contract.categorical.items():
        if spec.dtype == "int":
            assert typed[name].dtype == "int64", name
        else:
            assert pd.api.types.is_string_dtype(typed[name]), name


def test_blanks_are_read_and_filled_as_the_contract_says() -> None:
    raw = toy.raw(50)
    new = raw["tenure"] == "0"
    assert (raw.loc[new, "TotalCharges"] == " ").all()
    typed = to_typed(raw, toy.contract())
    assert (typed.loc[new.to_numpy(), "TotalCharges"] == 0).all()  # fill_missing: 0
    assert typed["SeniorCitizen"].dtype == "int64"


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("x\n2\n")
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(a) == fingerprint(a)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x00\x01\x02binary", "looks binary"),
        (b"a;b;c\n1;2;3\n", "delimiter"),
        (b"a,b\n", "no rows"),
        (b"a,b\n\xff\xfe\xfa,1\n", "not UTF-8"),
        (b'a,b\n1,"unterminated\n', "not a well-formed CSV"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        read_raw(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="not found"):
        read_raw(tmp_path / "nope.csv")


def test_non_numeric_value_is_named(sample_path: Path, contract_path: Path) -> None:
    contract = load_contract(contract_path)
    column = roles().numeric
    raw = read_as_text(sample_path).head(20).copy()  # a CSV's text, whatever the format
    raw.loc[3, column] = "ten"
    with pytest.raises(DataFileError, match=re.escape(f"'{column}' must be numeric; found 'ten'")):
        to_typed(raw, contract)


def test_missing_column_is_named(contract_path: Path) -> None:
    contract = load_contract(contract_path)
    with pytest.raises(DataFileError, match="columns missing"):
        to_typed(pd.DataFrame({"customerID": ["a"]}), contract)
