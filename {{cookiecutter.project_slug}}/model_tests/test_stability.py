"""Stability: small input noise barely moves the model, and training is reproducible."""

from __future__ import annotations

from typing import Any

import pandas as pd

from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.train import checks, training
from {{ cookiecutter.package_name }}.train.config import TrainingConfig
from {{ cookiecutter.package_name }}.train.inputs import Inputs


def test_robustness_to_numeric_noise(
    model: Any, test_rows: pd.DataFrame, contract: DataContract, config: TrainingConfig
) -> None:
    result = checks.check_robustness(
        model, test_rows, contract, config.model_tests.robustness, config.seed
    )
    assert result.passed, result.message


def test_training_twice_gives_identical_metrics(inputs: Inputs) -> None:
    first = training.train(inputs.frame, inputs.contract, inputs.config)
    second = training.train(inputs.frame, inputs.contract, inputs.config)
    result = checks.check_determinism(first.evaluation.metrics, second.evaluation.metrics)
    assert result.passed, result.message


def test_saved_model_is_what_training_produces(
    inputs: Inputs, evaluation: training.Evaluation
) -> None:
    fresh = training.train(inputs.frame, inputs.contract, inputs.config)
    result = checks.check_determinism(evaluation.metrics, fresh.evaluation.metrics)
    assert result.passed, (
        f"{result.message} (saved model vs a fresh training on the same data and config: "
        "was models/current trained from another config? run `make train`)"
    )
