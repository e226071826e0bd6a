"""Shared, session-wide fixtures: the GX engine is built once (its import alone takes ~5 s)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.datasets import (
    fields_per_line,
    read_raw,
)
from {{ cookiecutter.package_name }}.contract.model import training_data_path
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation.service import (
    DataValidator,
    project_validator,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(project_dir=PROJECT_DIR)


@pytest.fixture(scope="session")
def validator(settings: Settings) -> DataValidator:
    """The project's contract and rules; every test reuses its GX context and suites."""
    return project_validator(settings)


@pytest.fixture(scope="session")
def sample_path(settings: Settings, validator: DataValidator) -> Path:
    """The configured data file (the contract's data_file, or MLOPS_DATA_PATH)."""
    return training_data_path(settings, validator.contract)


@pytest.fixture(scope="session")
def sample(sample_path: Path) -> pd.DataFrame:
    return read_raw(sample_path)


@pytest.fixture(scope="session")
def sample_fields(sample_path: Path) -> pd.Series:
    return fields_per_line(sample_path)
