"""Shared fixtures of the model tests: the saved model, the config and the test split.

The model tests judge the model in `models/current/` (what `make train` wrote and
what would be served). Cases come from `config/model.yaml`, the metric floors from
`config/gates.yaml`, so a
project adapts them without touching this folder. Settings are read as the CLI
reads them, so `MLOPS_MODELS_DIR` or `MLOPS_TRAINING_CONFIG_PATH` point the tests
elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.errors import ModelNotFoundError
from {{ cookiecutter.package_name }}.gate.config import GateConfig, load_gate_config
from {{ cookiecutter.package_name }}.layout import (
    MODEL_TESTS_FILE,
    ModelMetadata,
    ModelTestResult,
    ModelTestsRecord,
    utc_timestamp,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.train import training
from {{ cookiecutter.package_name }}.train.config import TrainingConfig
from {{ cookiecutter.package_name }}.train.inputs import Inputs, load_configs, load_inputs
from {{ cookiecutter.package_name }}.train.model_store import load_current

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _settings() -> Settings:
    return Settings(project_dir=PROJECT_DIR)


_RESULTS: dict[str, ModelTestResult] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, with one clear line, when there is no model to test."""
    try:
        load_current(_settings().models_dir)
    except ModelNotFoundError as err:
        pytest.exit(f"model tests: {err}", returncode=1)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep each test's outcome (and its first message line) for the model card."""
    if report.when == "call" or report.outcome != "passed":
        outcome = "error" if report.when != "call" and report.failed else report.outcome
        message = ""
        if report.failed:
            message = str(report.longrepr).strip().splitlines()[-1][:300]
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        name = report.nodeid.split("::", 1)[-1]
        if name not in _RESULTS or outcome != "passed":
            _RESULTS[name] = ModelTestResult(name=name, outcome=outcome, message=message)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write reports/model_tests.json: which checks ran on which model, and how they ended."""
    if not _RESULTS:
        return
    settings = _settings()
    try:
        version = load_current(settings.models_dir)[1].model_version
    except ModelNotFoundError:
        return
    record = ModelTestsRecord(
        model_version=version, finished_at=utc_timestamp(), results=tuple(_RESULTS.values())
    )
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / MODEL_TESTS_FILE
    path.write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per configured case, named after it, so a failure names the case."""
    _, config = load_configs(_settings())
    tests = config.model_tests
    if "directional_case" in metafunc.fixturenames:
        ids = [case.name for case in tests.directional]
        metafunc.parametrize("directional_case", tests.directional, ids=ids)
    if "mft_case" in metafunc.fixturenames:
        ids = [case.name for case in tests.minimum_functionality]
        metafunc.parametrize("mft_case", tests.minimum_functionality, ids=ids)
    if "slice_column" in metafunc.fixturenames:
        metafunc.parametrize("slice_column", config.slices.columns)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return _settings()


@pytest.fixture(scope="session")
def saved(settings: Settings) -> tuple[Any, ModelMetadata]:
    return load_current(settings.models_dir)


@pytest.fixture(scope="session")
def model(saved: tuple[Any, ModelMetadata]) -> Any:
    return saved[0]


@pytest.fixture(scope="session")
def metadata(saved: tuple[Any, ModelMetadata]) -> ModelMetadata:
    return saved[1]


@pytest.fixture(scope="session")
def gate_config(settings: Settings) -> GateConfig:
    return load_gate_config(settings.gates_config_path)


@pytest.fixture(scope="session")
def inputs(settings: Settings) -> Inputs:
    return load_inputs(settings)


@pytest.fixture(scope="session")
def contract(inputs: Inputs) -> DataContract:
    return inputs.contract


@pytest.fixture(scope="session")
def config(inputs: Inputs) -> TrainingConfig:
    return inputs.config


@pytest.fixture(scope="session")
def test_rows(inputs: Inputs) -> pd.DataFrame:
    """The deterministic test split: rows the model never saw during fitting."""
    split = training.split_frame(inputs.frame, inputs.contract, inputs.config)
    return inputs.frame.loc[split.test]


@pytest.fixture(scope="session")
def evaluation(
    model: Any, test_rows: pd.DataFrame, contract: DataContract, config: TrainingConfig
) -> training.Evaluation:
    return training.evaluate(model, test_rows, contract, config)
