"""Shared, session-wide fixtures: the GX engine is built once (its import alone takes ~5 s).

`make data-test` runs `pytest data_tests --validate-first`: the `validate` command
runs first, in this process, exactly as `<package> validate` (its table, its
reports in reports/), and a failure stops the session before any data test, as a
failed step would. One process instead of two loads Great Expectations and builds
its engine once for both (~7 s of CPU saved on every `make ci`).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.datasets import read_as_text
from {{ cookiecutter.package_name }}.contract.model import PARQUET_SUFFIXES, training_data_path
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation.service import (
    DataValidator,
    project_validator,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--validate-first",
        action="store_true",
        help="run the validate command (writes reports/) before the data tests; stop if it fails",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """With --validate-first: `validate` on the configured data, its output shown as is."""
    config = session.config
    if not config.getoption("--validate-first") or config.option.collectonly:
        return
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller has validated
    from {{ cookiecutter.package_name }}.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--project-dir", str(PROJECT_DIR), "validate"])
    terminal = session.config.get_terminal_writer()
    for text in (out.getvalue(), err.getvalue()):
        if text:
            terminal.write(text)
    terminal.flush()
    if code != 0:
        pytest.exit("data validation failed (above): the data tests were not run", returncode=code)


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
    """The configured data with every value as text (CSV or Parquet alike): what the
    corruptions edit."""
    return read_as_text(sample_path)


@pytest.fixture(scope="session")
def sample_csv(
    sample_path: Path, sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The configured data as a CSV file, for the tests that edit a file's lines: the
    file itself, or a CSV copy of configured Parquet data."""
    if sample_path.suffix.lower() not in PARQUET_SUFFIXES:
        return sample_path
    path = tmp_path_factory.mktemp("sample") / f"{sample_path.stem}.csv"
    sample.to_csv(path, index=False)
    return path
