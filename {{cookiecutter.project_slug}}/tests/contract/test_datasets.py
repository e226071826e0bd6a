from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.datasets import DataFileError, fingerprint, read_raw, to_typed
from {{ cookiecutter.package_name }}.contract.model import load_contract


def test_sample_reads_and_types(sample_path: Path, contract_path: Path) -> None:
    contract = load_contract(contract_path)
    typed = to_typed(read_raw(sample_path), contract)
    assert len(typed) == 7043
    assert typed["TotalCharges"].isna().sum() == 0  # the 11 blanks are filled per contract
    assert (typed.loc[typed["tenure"] == 0, "TotalCharges"] == 0).all()
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
    raw = read_raw(sample_path).head(20).copy()
    raw.loc[3, "tenure"] = "ten"
    with pytest.raises(DataFileError, match="'tenure' must be numeric; found 'ten'"):
        to_typed(raw, contract)


def test_missing_column_is_named(contract_path: Path) -> None:
    contract = load_contract(contract_path)
    with pytest.raises(DataFileError, match="columns missing"):
        to_typed(pd.DataFrame({"customerID": ["a"]}), contract)
