"""The shipped sample satisfies every check of the contract and the rules, in CSV and Parquet."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation.service import (
    DataValidator,
    validate_file,
    validate_project_data,
)


def test_sample_passes_every_check(validator: DataValidator, sample_path: Path) -> None:
    outcome = validator.validate_path(sample_path).outcome
    assert outcome.success, outcome.failure_table()
    assert [r.status for r in outcome.results] == ["passed"] * len(validator.plan)
    assert outcome.rows == 7043
    by_key = {r.check.key: r for r in outcome.results}
    assert by_key["Churn:positive_rate"].observed == "0.2654"
    assert by_key["table:rows"].observed == "7,043"


def test_validate_file_returns_the_outcome(validator: DataValidator, sample_path: Path) -> None:
    outcome = validate_file(sample_path, validator.contract, validator.rules, validator=validator)
    assert outcome.success
    assert outcome.summary_line().startswith("data validation passed: ")


def test_parquet_copy_passes(validator: DataValidator, sample_path: Path, tmp_path: Path) -> None:
    typed = pd.read_csv(sample_path)  # pandas' own types: ints, floats, text
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
