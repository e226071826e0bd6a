"""The configured data satisfies every check of the contract and the rules, in CSV and Parquet."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.draft import DraftRequest, draft_contract
from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation.rules import DataRules
from {{ cookiecutter.package_name }}.validation.service import (
    DataValidator,
    validate_file,
    validate_project_data,
)


def test_configured_data_passes_every_check(
    validator: DataValidator, sample_path: Path, sample: pd.DataFrame
) -> None:
    outcome = validator.validate_path(sample_path).outcome
    assert outcome.success, outcome.failure_table()
    assert [r.status for r in outcome.results] == ["passed"] * len(validator.plan)
    assert outcome.rows == len(sample)
    target = validator.contract.target
    rate = (sample[target.column] == target.positive).mean()
    by_key = {r.check.key: r for r in outcome.results}
    observed = float(by_key[f"{target.column}:positive_rate"].observed)
    assert observed == pytest.approx(rate, abs=5e-5)  # as shown: 4 significant digits
    assert by_key["table:rows"].observed == f"{len(sample):,}"


def test_validate_file_returns_the_outcome(validator: DataValidator, sample_path: Path) -> None:
    outcome = validate_file(sample_path, validator.contract, validator.rules, validator=validator)
    assert outcome.success
    assert outcome.summary_line().startswith("data validation passed: ")


def test_parquet_copy_passes(validator: DataValidator, sample_csv: Path, tmp_path: Path) -> None:
    typed = pd.read_csv(sample_csv)  # pandas' own types: ints, floats, text
    path = tmp_path / "sample.parquet"
    typed.to_parquet(path)
    outcome = validator.validate_path(path).outcome
    assert outcome.success, outcome.failure_table()


def test_reports_are_written(settings: Settings, validator: DataValidator, tmp_path: Path) -> None:
    local = settings.model_copy(update={"reports_dir": tmp_path / "reports"})
    validate_project_data(local, validator=validator)
    html = (tmp_path / "reports" / "data_validation.html").read_text()
    assert "Data validation" in html
    assert "<script" not in html
    assert (tmp_path / "reports" / "data_validation.json").is_file()
    assert (tmp_path / "reports" / "data_docs" / "index.html").is_file()
    links = re.findall(r'href="(data_docs/validations/[^"]+)"', html)
    assert len(links) == 2  # this run's result page for each view of the file
    assert all((tmp_path / "reports" / link).is_file() for link in links)


def test_a_contract_drafted_from_the_data_accepts_it(
    validator: DataValidator, sample_path: Path, sample: pd.DataFrame
) -> None:
    """What `draft-contract` writes for the configured data validates that data, every check."""
    contract = validator.contract
    request = DraftRequest(
        data_file=sample_path,
        target=contract.target.column,
        positive=contract.target.positive,
        id_column=contract.id_column,
    )
    drafted = DataContract.model_validate(draft_contract(sample, request).contract)
    outcome = DataValidator(drafted, DataRules()).validate_path(sample_path).outcome
    assert outcome.success, outcome.failure_table()
