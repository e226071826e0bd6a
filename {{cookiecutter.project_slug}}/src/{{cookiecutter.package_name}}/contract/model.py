"""The data contract: a typed view of `config/data_contract.yaml`.

Everything that needs to know the shape of the data (loading, features, data
tests, the API schema, drift checks) asks this model instead of hard-coding
column names, so a user adapts the project by editing one YAML file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ..config_files import FrozenModel as _Frozen
from ..config_files import load_yaml
from ..errors import ContractError
from ..settings import Settings

# The suffixes read as Parquet; any other data file is read as CSV.
PARQUET_SUFFIXES = (".parquet", ".pq")


class Bounds(_Frozen):
    """An inclusive range; either end may be open."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class NumericColumn(_Frozen):
    """A numeric feature with its allowed range and how missing values are handled."""

    dtype: Literal["int", "float"] = "float"
    min: float | None = None
    max: float | None = None
    nullable: bool = False
    missing_values: tuple[str, ...] = ()
    fill_missing: float | None = None
    description: str = ""
    # Personal data: the prediction log hashes or drops it, drift does not compare it.
    pii: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> NumericColumn:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.fill_missing is not None and not self.nullable:
            raise ValueError("fill_missing is set but the column is not nullable")
        return self


class CategoricalColumn(_Frozen):
    """A categorical feature and the complete list of values it may take."""

    dtype: Literal["str", "int"] = "str"
    values: tuple[str | int, ...] = Field(min_length=1)
    nullable: bool = False
    description: str = ""
    # Personal data: the prediction log hashes or drops it, drift does not compare it.
    pii: bool = False

    @model_validator(mode="after")
    def _typed_values(self) -> CategoricalColumn:
        expected = int if self.dtype == "int" else str
        wrong = [v for v in self.values if not isinstance(v, expected)]
        if wrong:
            raise ValueError(f"values {wrong} are not of dtype {self.dtype!r}")
        if len(set(self.values)) != len(self.values):
            raise ValueError("values contain duplicates")
        return self


class Target(_Frozen):
    """The label column, which of its labels is the positive class, and its balance."""

    column: str
    positive: str
    negative: str
    positive_rate: Bounds = Bounds(min=0.0, max=1.0)

    @property
    def labels(self) -> tuple[str, str]:
        """Labels in the order the model's probability columns use (negative, positive)."""
        return (self.negative, self.positive)


class DataContract(_Frozen):
    """The whole contract, checked for internal consistency when loaded."""

    name: str
    version: int = 1
    description: str = ""
    # Where the training data is, relative to the project folder (MLOPS_DATA_PATH overrides it).
    data_file: Path | None = None
    id_column: str | None = None
    # The id identifies a person: personal data unless set to false.
    id_pii: bool = True
    target: Target
    rows: Bounds = Bounds(min=1)
    numeric: dict[str, NumericColumn] = Field(default_factory=dict)
    categorical: dict[str, CategoricalColumn] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _columns_disjoint(self) -> DataContract:
        both = set(self.numeric) & set(self.categorical)
        if both:
            raise ValueError(f"columns declared both numeric and categorical: {sorted(both)}")
        if not self.numeric and not self.categorical:
            raise ValueError("the contract declares no feature columns")
        reserved = {self.target.column} | ({self.id_column} if self.id_column else set())
        clash = reserved & (set(self.numeric) | set(self.categorical))
        if clash:
            raise ValueError(f"id/target columns must not be features: {sorted(clash)}")
        return self

    @property
    def feature_columns(self) -> list[str]:
        """Model inputs, numeric first, in contract order."""
        return [*self.numeric, *self.categorical]

    @property
    def pii_columns(self) -> list[str]:
        """Columns holding personal data: the id (unless `id_pii: false`) and `pii: true` ones."""
        head = [self.id_column] if self.id_column and self.id_pii else []
        specs: dict[str, NumericColumn | CategoricalColumn] = {**self.numeric, **self.categorical}
        return [*head, *(name for name, spec in specs.items() if spec.pii)]

    @property
    def columns(self) -> list[str]:
        """Every column a training file must have, in contract order."""
        head = [self.id_column] if self.id_column else []
        return [*head, *self.feature_columns, self.target.column]

    def fingerprint(self) -> str:
        """Short stable hash, so a model, a report or an API can say which contract it used.

        The data file's location is left out: moving the file changes no column.
        """
        shape = self.model_dump(mode="json", exclude={"data_file"})
        canonical = json.dumps(shape, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def training_data_path(settings: Settings, contract: DataContract) -> Path:
    """The training data file: MLOPS_DATA_PATH when set, else the contract's `data_file`.

    Raises:
        ContractError: neither says where the data is.
    """
    if settings.data_path is not None:
        return settings.data_path
    if contract.data_file is None:
        where = settings.relative(settings.contract_path)
        raise ContractError(
            f"no training data configured: set data_file in {where} "
            "(e.g. data_file: data/raw/my_data.csv) or MLOPS_DATA_PATH"
        )
    return settings.path(contract.data_file)


def load_contract(path: Path) -> DataContract:
    """Read and check the contract, turning every problem into one readable ContractError."""
    return load_yaml(path, DataContract, "data contract", ContractError)
