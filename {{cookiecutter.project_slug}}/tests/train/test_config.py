from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.contract.model import load_contract
from {{ cookiecutter.package_name }}.train.config import (
    TrainingConfig,
    TrainingConfigError,
    check_against_contract,
    load_training_config,
)

from .. import toy


@pytest.fixture
def config_path(project_dir: Path) -> Path:
    return project_dir / "config" / "model.yaml"


def _write(tmp_path: Path, raw: object) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(raw) if not isinstance(raw, str) else raw)
    return path


def test_shipped_config_loads_and_matches_the_contract(
    config_path: Path, contract_path: Path
) -> None:
    config = load_training_config(config_path)
    check_against_contract(config, load_contract(contract_path))
    assert 0 < config.threshold < 1


def test_config_is_frozen(config_path: Path) -> None:
    config = load_training_config(config_path)
    with pytest.raises(ValueError, match="frozen"):
        config.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed: [unclosed", "not valid YAML"),
        ("- a list", "mapping at the top level"),
        ("seed: 1", "estimator: Field required"),
        ("estimator: {name: LogisticRegression}", "dotted import path"),
        ("estimator: {name: a.B}\ntest_size: 1.5", "test_size"),
        ("estimator: {name: a.B}\nthreshold: 0", "threshold"),
        ("estimator: {name: a.B}\nsurprise: 1", "surprise"),
        ("estimator: {name: a.B}\nmodel_tests: {slice_gap: {metric: auc}}", "unknown metric 'auc'"),
    ],
)
def test_bad_config_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TrainingConfigError, match=message):
        load_training_config(_write(tmp_path, text))


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(TrainingConfigError, match="not found"):
        load_training_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slices": {"columns": ["Nope"]}}, "'Nope' is not a categorical column"),
        ({"slices": {"columns": ["tenure"]}}, "'tenure' is not a categorical column"),
        (
            {
                "model_tests": {
                    "directional": [
                        {
                            "name": "d",
                            "column": "Contract",
                            "from_value": "Ten year",
                            "to_value": "Month-to-month",
                            "expect": "increase",
                        }
                    ]
                }
            },
            "'Ten year' is not an allowed value of 'Contract'",
        ),
        (
            {
                "model_tests": {
                    "minimum_functionality": [
                        {"name": "m", "set": {"tenure": 999}, "expect": "positive"}
                    ]
                }
            },
            "outside the contract range of 'tenure'",
        ),
        (
            {
                "model_tests": {
                    "minimum_functionality": [
                        {"name": "m", "set": {"tenure": "long"}, "expect": "positive"}
                    ]
                }
            },
            "'tenure' is numeric",
        ),
    ],
)
def test_config_must_name_contract_columns_and_values(
    change: dict[str, object], message: str
) -> None:
    raw: dict[str, object] = {"estimator": {"name": "sklearn.dummy.DummyClassifier"}, **change}
    config = TrainingConfig.model_validate(raw)
    with pytest.raises(TrainingConfigError, match=message):
        check_against_contract(config, toy.contract())


def test_a_mismatch_names_the_file_the_key_and_the_column(tmp_path: Path) -> None:
    config = TrainingConfig.model_validate(
        {"estimator": {"name": "a.B"}, "slices": {"columns": ["Region"]}}
    )
    with pytest.raises(TrainingConfigError) as caught:
        check_against_contract(config, toy.contract(), tmp_path / "model.yaml")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'model.yaml'} does not match the data contract: ")
    assert "slices.columns: 'Region' is not a categorical column" in message
