"""`draft-contract`: a first contract read off a data file, for a person to review."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.contract.datasets import to_typed
from {{ cookiecutter.package_name }}.contract.draft import DraftRequest, draft_contract
from {{ cookiecutter.package_name }}.contract.model import (
    ContractError,
    DataContract,
    load_contract,
)

from .. import toy

REQUEST = DraftRequest(data_file=Path("data/raw/toy.csv"), target="Churn")


def test_the_draft_describes_the_file() -> None:
    draft = draft_contract(toy.raw(400), REQUEST)
    contract = DataContract.model_validate(draft.contract)
    assert contract.data_file == Path("data/raw/toy.csv")
    assert contract.id_column == "customerID"  # unique text ending in "id"
    assert contract.target.labels == ("No", "Yes")  # "Yes" reads as the positive label
    assert set(contract.numeric) == {"tenure", "MonthlyCharges", "TotalCharges"}
    tenure = contract.numeric["tenure"]
    assert (tenure.dtype, tenure.min, tenure.max) == ("int", 0, 72)
    total = contract.numeric["TotalCharges"]
    assert (total.dtype, total.nullable, total.missing_values) == ("float", True, (" ",))
    assert contract.categorical["SeniorCitizen"].values == (0, 1)  # a 0/1 code is a category
    assert contract.categorical["Contract"].values == toy.CONTRACTS
    assert any("'Yes' taken as the positive label" in note for note in draft.notes)
    assert len(to_typed(toy.raw(400), contract)) == 400  # the file reads under its draft


def test_the_rarer_label_is_positive_unless_one_says_yes() -> None:
    raw = toy.raw(400).assign(Churn=lambda f: f["Churn"].map({"Yes": "left", "No": "stayed"}))
    draft = draft_contract(raw, REQUEST)
    rarer = raw["Churn"].value_counts().index[-1]
    assert draft.contract["target"]["positive"] == rarer
    chosen = draft_contract(raw, DraftRequest(Path("x.csv"), "Churn", positive="stayed"))
    assert chosen.contract["target"]["positive"] == "stayed"


def test_no_id_column_unless_one_is_found_or_named() -> None:
    raw = toy.raw(100).drop(columns=["customerID"])
    assert "id_column" not in draft_contract(raw, REQUEST).contract
    named = draft_contract(toy.raw(100), DraftRequest(Path("x.csv"), "Churn", id_column="gender"))
    assert named.contract["id_column"] == "gender"


@pytest.mark.parametrize(
    ("raw", "request_", "message"),
    [
        (toy.raw(50), DraftRequest(Path("x.csv"), "churned"), "target column 'churned' is not"),
        (
            toy.raw(50).assign(Churn=["a", "b", "c", "d", "e"] * 10),
            REQUEST,
            "must hold exactly two labels; found 5",
        ),
        (toy.raw(50), DraftRequest(Path("x.csv"), "Churn", positive="Maybe"), "not a label"),
        (toy.raw(50).assign(gender=""), REQUEST, "'gender' is blank on every row"),
    ],
    ids=["no-target", "three-labels", "unknown-positive", "all-blank"],
)
def test_what_cannot_be_drafted_is_one_clear_error(
    raw: pd.DataFrame, request_: DraftRequest, message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        draft_contract(raw, request_)


def test_the_command_writes_a_contract_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data" / "raw" / "customers.csv"
    data.parent.mkdir(parents=True)
    toy.raw(300).to_csv(data, index=False)
    args = ["--project-dir", str(tmp_path), "draft-contract", "data/raw/customers.csv"]
    assert main([*args, "--target", "Churn"]) == 0
    drafted = tmp_path / "config" / "data_contract.draft.yaml"
    contract = load_contract(drafted)
    assert contract.data_file == Path("data/raw/customers.csv")
    assert drafted.read_text().startswith("# Drafted by")
    out = capsys.readouterr().out
    assert "3 numeric, 4 categorical" in out
    assert "mv config/data_contract.draft.yaml config/data_contract.yaml" in out


def test_a_parquet_file_is_drafted_as_the_same_table_saved_as_csv(tmp_path: Path) -> None:
    """Parquet's columns come typed; the draft reads them as text, as it reads a CSV."""
    folder = tmp_path / "data" / "raw"
    folder.mkdir(parents=True)
    toy.raw(300).to_csv(folder / "customers.csv", index=False)
    pd.read_csv(folder / "customers.csv").to_parquet(folder / "customers.parquet")
    drafted = {}
    for name in ("customers.csv", "customers.parquet"):
        output = tmp_path / "config" / f"{name}.yaml"
        args = ["--project-dir", str(tmp_path), "draft-contract", f"data/raw/{name}"]
        assert main([*args, "--target", "Churn", "--output", str(output)]) == 0
        drafted[name] = load_contract(output)
    from_csv, from_parquet = drafted["customers.csv"], drafted["customers.parquet"]
    assert from_parquet.numeric == from_csv.numeric
    assert from_parquet.categorical == from_csv.categorical
    assert from_parquet.target == from_csv.target
