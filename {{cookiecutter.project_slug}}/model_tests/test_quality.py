"""Quality: the model matches the data, reaches the metric bars and treats slices alike."""

from __future__ import annotations

from {{ cookiecutter.package_name }}.contract.datasets import fingerprint
from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.gate.config import GateConfig
from {{ cookiecutter.package_name }}.layout import ModelMetadata
from {{ cookiecutter.package_name }}.train import checks, training
from {{ cookiecutter.package_name }}.train.config import TrainingConfig
from {{ cookiecutter.package_name }}.train.inputs import Inputs


def test_model_was_trained_on_the_current_contract_and_data(
    metadata: ModelMetadata, contract: DataContract, inputs: Inputs
) -> None:
    assert metadata.contract_fingerprint == contract.fingerprint(), (
        "model check FAILED: model matches contract: the data contract changed since "
        "training; run `make train` first"
    )
    assert metadata.data_fingerprint == fingerprint(inputs.data_path), (
        "model check FAILED: model matches data: the training data changed since "
        "training; run `make train` first"
    )


def test_metric_floors(evaluation: training.Evaluation, gate_config: GateConfig) -> None:
    result = checks.check_metric_thresholds(evaluation.metrics, gate_config.floors)
    assert result.passed, result.message


def test_slice_gap(
    slice_column: str, evaluation: training.Evaluation, config: TrainingConfig
) -> None:
    result = checks.check_slice_gap(
        slice_column, evaluation.slices[slice_column], config.model_tests.slice_gap
    )
    assert result.passed, result.message
