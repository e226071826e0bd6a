"""A deliberately bad configuration (a model that predicts a constant) fails the model tests.

The in-process test runs the check functions on a model trained from the bad
config; the slow ones run the real `model_tests/` suite (what `make model-test`
runs) against it in a process of its own, proving the failure is blocking and
names the check. Starting processes makes them integration tests: `make
integration` runs them (CI's service job), `make test` stays in one process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.contract.datasets import (
    fingerprint,
    read_raw,
    to_typed,
)
from {{ cookiecutter.package_name }}.contract.model import DataContract, load_contract
from {{ cookiecutter.package_name }}.gate.config import load_gate_config
from {{ cookiecutter.package_name }}.train import checks, model_store, training
from {{ cookiecutter.package_name }}.train.config import (
    TrainingConfig,
    load_training_config,
)

from ..conftest import SETTINGS, model_metadata

CONSTANT = {"name": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"}}


@pytest.fixture(scope="module")
def bad_config_path(project_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = yaml.safe_load((project_dir / "config" / "model.yaml").read_text())
    raw["estimator"] = CONSTANT
    path = tmp_path_factory.mktemp("bad-config") / "model.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="module")
def contract(contract_path: Path) -> DataContract:
    return load_contract(contract_path)


@pytest.fixture(scope="module")
def frame(sample_path: Path, contract: DataContract) -> pd.DataFrame:
    return to_typed(read_raw(sample_path), contract)


@pytest.fixture(scope="module")
def bad_config(bad_config_path: Path) -> TrainingConfig:
    return load_training_config(bad_config_path)


@pytest.fixture(scope="module")
def constant_model(
    frame: pd.DataFrame, contract: DataContract, bad_config: TrainingConfig
) -> training.TrainedModel:
    return training.train(frame, contract, bad_config)


def test_constant_model_fails_the_named_checks(
    constant_model: training.TrainedModel,
    frame: pd.DataFrame,
    bad_config: TrainingConfig,
) -> None:
    metrics = constant_model.evaluation.metrics
    floors = load_gate_config(SETTINGS.gates_config_path).floors
    thresholds = checks.check_metric_thresholds(metrics, floors)
    assert not thresholds.passed
    assert "metric thresholds" in thresholds.message
    assert "roc_auc 0.5000 < floor" in thresholds.message
    test_rows = frame.loc[constant_model.split.test]
    for case in bad_config.model_tests.directional:
        result = checks.check_directional(constant_model.pipeline, test_rows, case)
        assert not result.passed
        assert f"directional: {case.name}" in result.message


def _run_model_tests(
    project_dir: Path, reports: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the model test suite exactly as `make model-test` does, with settings from env.

    Its results go to `reports`: the project's own reports/model_tests.json belongs to
    `make model-test`, which `make ci` may run at the same time.
    """
    environment = {**os.environ, **env, "MLOPS_REPORTS_DIR": str(reports)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "model_tests", "--tb=short", "-p", "no:cacheprovider"],
        cwd=project_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def constant_model_dir(
    tmp_path: Path,
    constant_model: training.TrainedModel,
    contract: DataContract,
    sample_path: Path,
) -> Path:
    """A models folder whose current model is the constant one, as `train` would leave it."""
    models = tmp_path / "models"
    staging = model_store.staging_dir(models)
    model_store.save_pipeline(constant_model.pipeline, staging)
    model_metadata(contract, data_fingerprint=fingerprint(sample_path)).write(staging)
    model_store.promote(staging, model_store.current_dir(models))
    return models


@pytest.mark.slow
@pytest.mark.integration
def test_model_tests_block_a_constant_model(
    project_dir: Path, constant_model_dir: Path, bad_config_path: Path, tmp_path: Path
) -> None:
    result = _run_model_tests(
        project_dir,
        tmp_path / "reports",
        MLOPS_MODELS_DIR=str(constant_model_dir),
        MLOPS_TRAINING_CONFIG_PATH=str(bad_config_path),
    )
    assert result.returncode == 1, result.stdout
    assert "FAILED model_tests/test_quality.py::test_metric_floors" in result.stdout
    assert "model check FAILED: metric thresholds:" in result.stdout
    assert "roc_auc 0.5000 < floor 0.8" in result.stdout
    assert "model check FAILED: directional:" in result.stdout


@pytest.mark.slow
@pytest.mark.integration
def test_model_tests_without_a_model_say_train_first(project_dir: Path, tmp_path: Path) -> None:
    result = _run_model_tests(
        project_dir, tmp_path / "reports", MLOPS_MODELS_DIR=str(tmp_path / "empty")
    )
    assert result.returncode == 1
    assert "run `make train` first" in result.stdout + result.stderr
