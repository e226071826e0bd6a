"""Training skips validating data that just passed, and only that data.

One real validation writes the receipt; then training's check must accept it
without reading the file again, and every change the verdict depends on (a
byte of the data, a limit, a check, the receipt itself) must send it back to
validating.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.contract.datasets import DataLimits, read_raw
from {{ cookiecutter.package_name }}.errors import DataFileError, DataValidationError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation import receipt, service
from {{ cookiecutter.package_name }}.validation.service import (
    DataValidator,
    project_validator,
    validate_before_training,
    validate_file,
    validate_project_data,
)

from ..conftest import contract


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, project_dir: Path, sample_csv: Path
) -> Settings:
    """A copy of the project's config and data (as CSV: these tests edit its bytes),
    validated once (the receipt is written)."""
    root = tmp_path_factory.mktemp("receipt")
    shutil.copytree(project_dir / "config", root / "config")
    (root / "data").mkdir()
    shutil.copy(sample_csv, root / "data" / "train.csv")
    settings = Settings(project_dir=root, data_path=Path("data/train.csv"))
    validate_project_data(settings)
    return settings


@pytest.fixture
def no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the data was validated again")

    monkeypatch.setattr(DataValidator, "validate_path", refuse)


def _key(settings: Settings, path: Path, limits: DataLimits | None = None) -> str:
    validator = project_validator(settings)
    limits = limits or DataLimits.from_settings(settings)
    return receipt.receipt_key(path, validator.contract, validator.plan, limits)


def test_training_accepts_the_receipt_of_the_same_data(
    project: Settings, no_validation: None
) -> None:
    line = validate_before_training(project)
    assert line.startswith("data validation passed earlier: ")
    assert "not validated again" in line
    assert receipt.RECEIPT_FILE in line


def test_a_changed_byte_a_limit_or_a_check_changes_the_key(
    project: Settings, tmp_path: Path
) -> None:
    data = project.project_dir / "data" / "train.csv"
    key = _key(project, data)
    assert _key(project, data) == key  # stable
    edited = tmp_path / "train.csv"
    content = bytearray(data.read_bytes())
    content[-2] = ord("0") if content[-2] != ord("0") else ord("1")
    edited.write_bytes(bytes(content))
    assert _key(project, edited) != key
    smaller = dataclasses.replace(DataLimits.from_settings(project), chunk_rows=1000)
    assert _key(project, data, smaller) != key
    validator = project_validator(project)
    first = validator.plan[0]
    changed = [dataclasses.replace(first, kwargs={**first.kwargs, "mostly": 0.5})]
    limits = DataLimits.from_settings(project)
    planned = receipt.receipt_key(data, validator.contract, validator.plan, limits)
    assert receipt.receipt_key(data, validator.contract, changed, limits) != planned
    # A set among an expectation's arguments is written sorted: its iteration order
    # changes from one process to the next (string hashing), `validate` and `train` differ.
    assert receipt._canonical(frozenset({"b", "c", "a"})) == ["a", "b", "c"]


def test_changed_data_is_validated_again(
    project: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One changed value is another key: the data is validated (here: refused), and the
    # receipt goes with the reports it vouched for. The file is hashed once, not twice.
    hashed: list[Path] = []

    def counted(path: Path, *args: Any) -> str:
        hashed.append(path)
        return receipt.receipt_key(path, *args)

    monkeypatch.setattr(service, "receipt_key", counted)
    raw = read_raw(project.project_dir / "data" / "train.csv")
    target = contract().target.column
    raw.loc[raw.index[0], target] = "Perhaps"  # not one of the target's labels
    changed = tmp_path / "changed.csv"
    raw.to_csv(changed, index=False)
    settings = Settings(project_dir=project.project_dir, data_path=changed)
    with pytest.raises(DataValidationError, match="data validation failed"):
        validate_before_training(settings)
    assert hashed == [changed]
    assert not (project.reports_dir / receipt.RECEIPT_FILE).exists()  # the reports moved on
    validate_project_data(project)  # validated again: the receipt is back for the next tests
    assert (project.reports_dir / receipt.RECEIPT_FILE).exists()


def test_a_missing_malformed_or_foreign_receipt_is_no_receipt(tmp_path: Path) -> None:
    assert receipt.passed_before(tmp_path, "k") is None
    (tmp_path / receipt.RECEIPT_FILE).write_text("{not json", encoding="utf-8")
    assert receipt.passed_before(tmp_path, "k") is None
    (tmp_path / receipt.RECEIPT_FILE).write_text('["k"]', encoding="utf-8")
    assert receipt.passed_before(tmp_path, "k") is None
    receipt.write_receipt(tmp_path, "other", "data validation passed: ...")
    assert receipt.passed_before(tmp_path, "k") is None
    receipt.write_receipt(tmp_path, "k", "data validation passed: 3 checks")
    assert receipt.passed_before(tmp_path, "k") == "data validation passed: 3 checks"


def test_a_file_that_cannot_be_read_leaves_the_earlier_receipt(
    tmp_path: Path, project: Settings
) -> None:
    # Nothing was read, so no report was replaced: the earlier receipt still vouches for
    # the reports beside it. (Dropping it here once made `make ci`'s training validate
    # again whenever a unit test fed `validate` a broken file at the wrong moment.)
    receipt.write_receipt(tmp_path, "k", "data validation passed: earlier")
    validator = project_validator(project)
    with pytest.raises(DataFileError):
        validate_file(
            tmp_path / "missing.csv",
            validator.contract,
            validator.rules,
            validator=validator,
            reports_dir=tmp_path,
        )
    assert receipt.passed_before(tmp_path, "k") == "data validation passed: earlier"
    assert not (tmp_path / "data_validation.json").exists()
