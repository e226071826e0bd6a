"""The pull-request report reads what the real validator writes: counts and failures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.gate.report import validation_section
from {{ cookiecutter.package_name }}.layout import DATA_VALIDATION_JSON, ValidationRecord
from {{ cookiecutter.package_name }}.validation.service import DataValidator, validate_file


def _record(reports: Path) -> ValidationRecord:
    return ValidationRecord.model_validate_json((reports / DATA_VALIDATION_JSON).read_text())


def test_valid_data_reports_its_number_of_checks(
    validator: DataValidator, sample_path: Path, tmp_path: Path
) -> None:
    validate_file(
        sample_path, validator.contract, validator.rules, validator=validator, reports_dir=tmp_path
    )
    record = _record(tmp_path)
    lines = validation_section(record)
    assert record.checks == len(validator.plan) > 0
    assert lines[0].startswith(f"✅ data valid: {len(validator.plan)} checks, 0 failed")


def test_invalid_data_lists_its_failures_in_the_report(
    validator: DataValidator, sample: pd.DataFrame, tmp_path: Path
) -> None:
    contract = validator.contract
    column, spec = next((c, s) for c, s in contract.numeric.items() if s.max is not None)
    assert spec.max is not None
    broken = sample.copy()
    broken.loc[[3, 5], column] = str(spec.max * 10 + 1)
    path = tmp_path / "broken.csv"
    broken.to_csv(path, index=False)
    with pytest.raises(DataValidationError):
        validate_file(
            path, contract, validator.rules, validator=validator, reports_dir=tmp_path / "reports"
        )
    record = _record(tmp_path / "reports")
    text = "\n".join(validation_section(record))
    assert not record.success
    assert record.failed >= 1
    assert f"❌ data invalid: {record.checks} checks, {record.failed} failed" in text
    assert any(f.column == column for f in record.failures)
    assert f"| {column} |" in text
