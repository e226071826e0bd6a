"""The model configuration: a typed view of `config/model.yaml`.

What to train, how to split, and the bars the model must clear live in this one
file so that adapting the project to new data never means editing code. Column
names here are checked against the data contract (`check_against_contract`),
because a typo would otherwise surface as a confusing error deep in training.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..config_files import FrozenModel as _Frozen
from ..config_files import contract_mismatch, load_yaml
from ..contract.model import DataContract
from ..errors import TrainingConfigError
from .metrics import METRIC_NAMES

_DOTTED_NAME = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")

Scalar = str | int | float | bool


class EstimatorSpec(_Frozen):
    """A classifier by import path plus its keyword arguments."""

    name: str
    params: dict[str, Scalar | None] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dotted(self) -> EstimatorSpec:
        if not _DOTTED_NAME.fullmatch(self.name):
            raise ValueError(
                f"name must be a dotted import path like "
                f"'sklearn.linear_model.LogisticRegression', got {self.name!r}"
            )
        return self

    @property
    def short_name(self) -> str:
        """The class name alone, for tables and reports."""
        return self.name.rpartition(".")[2]


class SliceSpec(_Frozen):
    """Which columns define slices and how small a slice may be and still be scored."""

    columns: tuple[str, ...] = ()
    min_rows: int = Field(default=30, ge=1)
    min_positives: int = Field(default=5, ge=1)


class SliceGap(_Frozen):
    """The largest allowed difference of one metric between the scored slices of a column."""

    metric: str = "roc_auc"
    max_gap: float = Field(default=0.1, gt=0)

    @field_validator("metric")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in METRIC_NAMES:
            raise ValueError(f"unknown metric {name!r}; known: {list(METRIC_NAMES)}")
        return name


class Robustness(_Frozen):
    """Noise (in standard deviations) on numeric inputs and the probability change it may cause."""

    noise: float = Field(default=0.05, gt=0)
    max_mean_prob_change: float = Field(default=0.02, gt=0, le=1)


class DirectionalCase(_Frozen):
    """Changing one column from one value to another must move the probability one way."""

    name: str
    column: str
    from_value: Scalar
    to_value: Scalar
    expect: Literal["increase", "decrease"]
    min_share: float = Field(default=0.95, gt=0, le=1)


class MinimumFunctionalityCase(_Frozen):
    """A typical row with some values set must land on the expected side of the threshold."""

    name: str
    set: dict[str, Scalar] = Field(min_length=1)
    expect: Literal["positive", "negative"]


class ModelTests(_Frozen):
    """Bars of `make model-test`."""

    slice_gap: SliceGap = SliceGap()
    robustness: Robustness = Robustness()
    directional: tuple[DirectionalCase, ...] = ()
    minimum_functionality: tuple[MinimumFunctionalityCase, ...] = ()


class TrainingConfig(_Frozen):
    """The whole model configuration."""

    seed: int = Field(default=42, ge=0)
    test_size: float = Field(default=0.2, gt=0, lt=1)
    estimator: EstimatorSpec
    threshold: float = Field(default=0.5, gt=0, lt=1)
    slices: SliceSpec = SliceSpec()
    model_tests: ModelTests = ModelTests()


def _check_value(contract: DataContract, column: str, value: Scalar, where: str) -> list[str]:
    if column in contract.categorical:
        allowed = contract.categorical[column].values
        if value not in allowed:
            return [f"{where}: {value!r} is not an allowed value of {column!r} ({list(allowed)})"]
        return []
    if column in contract.numeric:
        spec = contract.numeric[column]
        if isinstance(value, str | bool):
            return [f"{where}: {column!r} is numeric, got {value!r}"]
        if (spec.min is not None and value < spec.min) or (
            spec.max is not None and value > spec.max
        ):
            return [f"{where}: {value!r} is outside the contract range of {column!r}"]
        return []
    return [f"{where}: {column!r} is not a feature column of the contract"]


def check_against_contract(
    config: TrainingConfig, contract: DataContract, path: Path = Path("config/model.yaml")
) -> None:
    """Make sure every column and value the configuration names exists in the contract.

    Args:
        config: the model configuration.
        contract: the data contract.
        path: the configuration's file, named in the message.

    Raises:
        TrainingConfigError: naming the file, and each key and column that does not match.
    """
    problems = [
        f"slices.columns: {column!r} is not a categorical column of the contract"
        for column in config.slices.columns
        if column not in contract.categorical
    ]
    for case in config.model_tests.directional:
        where = f"model_tests.directional[{case.name!r}]"
        problems += _check_value(contract, case.column, case.from_value, where)
        problems += _check_value(contract, case.column, case.to_value, where)
    for mft in config.model_tests.minimum_functionality:
        where = f"model_tests.minimum_functionality[{mft.name!r}].set"
        for column, value in mft.set.items():
            problems += _check_value(contract, column, value, where)
    if problems:
        raise TrainingConfigError(contract_mismatch(path, problems))


def load_training_config(path: Path) -> TrainingConfig:
    """Read and check the model configuration, turning every problem into one clear error."""
    return load_yaml(path, TrainingConfig, "model config", TrainingConfigError)
