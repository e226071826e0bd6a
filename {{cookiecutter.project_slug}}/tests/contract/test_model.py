from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.contract.model import (
    ContractError,
    DataContract,
    load_contract,
)


def test_project_contract_loads(contract_path: Path) -> None:
    contract = load_contract(contract_path)
    target = contract.target
    assert target.labels == (target.negative, target.positive)
    assert target.positive != target.negative
    assert contract.id_column not in contract.feature_columns
    head = [contract.id_column] if contract.id_column else []
    assert contract.columns == [*head, *contract.feature_columns, target.column]
    assert contract.data_file is not None, "name the training data: data_file in the contract"


def test_fingerprint_is_stable_and_content_sensitive(contract_path: Path) -> None:
    raw = yaml.safe_load(contract_path.read_text())
    first = DataContract.model_validate(raw).fingerprint()
    assert first == DataContract.model_validate(raw).fingerprint()
    raw["data_file"] = "data/raw/moved.csv"  # where the file is does not change its shape
    assert DataContract.model_validate(raw).fingerprint() == first
    column = next(iter(raw["numeric"]))
    raw["numeric"][column]["max"] = 999_999_999
    assert DataContract.model_validate(raw).fingerprint() != first


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    return path


MINIMAL = """
name: t
target: {column: y, positive: "1", negative: "0"}
numeric: {x: {min: 0, max: 1}}
"""


def test_minimal_contract(tmp_path: Path) -> None:
    contract = load_contract(_write(tmp_path, MINIMAL))
    assert contract.feature_columns == ["x"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("- a list", "mapping at the top level"),
        (MINIMAL.replace("min: 0, max: 1", "min: 2, max: 1"), "greater than max"),
        (MINIMAL + "categorical: {x: {values: [a]}}", "both numeric and categorical"),
        (MINIMAL + "categorical: {c: {dtype: int, values: [a]}}", "not of dtype"),
        (MINIMAL + "id_column: x", "must not be features"),
        (MINIMAL.replace("name: t", "name: t\nunknown_key: 1"), "unknown_key"),
    ],
)
def test_bad_contract_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ContractError, match=message):
        load_contract(_write(tmp_path, text))


def test_missing_contract(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="not found"):
        load_contract(tmp_path / "nope.yaml")
