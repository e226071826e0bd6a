"""Cross-column rules: the checks that relate several columns of one row.

The data contract describes each column on its own; rules that tie columns
together (a total that must match its parts, a blank allowed only in some
cases) live in `config/data_rules.yaml`, read by this module. Each rule kind
is a small model here that knows which columns it reads and how to turn a
table into one derived column that Great Expectations can check, so adding a
rule for other data is a config edit, and adding a new kind of rule is one
class in this file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config_files import FrozenModel, contract_mismatch, load_yaml
from ..contract.model import DataContract
from ..errors import ContractError


class _Rule(BaseModel, ABC):
    """What every kind of rule provides; the kinds below fill it in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    column: str

    @property
    @abstractmethod
    def reads(self) -> tuple[str, ...]:
        """The file columns the rule needs; it is skipped when one is missing."""

    @property
    @abstractmethod
    def derived_column(self) -> str:
        """Name of the derived column the rule's expectation looks at."""

    @property
    @abstractmethod
    def summary(self) -> str:
        """The rule in a few words, for tables and reports."""

    @abstractmethod
    def derive(self, text: pd.DataFrame, numbers: pd.DataFrame) -> pd.Series:
        """Compute the derived column from the text view and the numeric view of the file."""

    @abstractmethod
    def expectation(self, contract: DataContract) -> tuple[str, dict[str, Any]]:
        """The Great Expectations class name and arguments that check the derived column."""


class ApproxProduct(_Rule):
    """`column` is close to the product of `factors` on every row (within a tolerance).

    Closeness is the symmetric relative difference |c - p| / max(|c|, |p|): it is
    0 for equal values, 0.5 when one is twice the other, and stays defined when
    the product is 0. Rows where any value is blank are left to the null checks.
    """

    kind: Literal["approx_product"]
    factors: tuple[str, ...] = Field(min_length=2)
    max_relative_difference: float = Field(gt=0)
    mostly: float = Field(default=1.0, gt=0, le=1)

    @property
    def reads(self) -> tuple[str, ...]:
        """The checked column and its factors."""
        return (self.column, *self.factors)

    @property
    def derived_column(self) -> str:
        """Relative difference between the column and the product of the factors."""
        return f"{self.column} vs {' x '.join(self.factors)} (relative difference)"

    @property
    def summary(self) -> str:
        """The rule in a few words, for tables and reports."""
        share = "" if self.mostly >= 1 else f" on {self.mostly:.0%} of rows"
        return f"within {self.max_relative_difference:.0%} of {' x '.join(self.factors)}{share}"

    def derive(self, text: pd.DataFrame, numbers: pd.DataFrame) -> pd.Series:
        """Symmetric relative difference per row; NaN where a value is blank."""
        value = numbers[self.column]
        product = numbers[list(self.factors)].prod(axis=1, min_count=len(self.factors))
        scale = pd.concat([value.abs(), product.abs()], axis=1).max(axis=1, skipna=False)
        difference = (value - product).abs() / scale.where(scale > 0)
        return difference.mask(scale == 0, 0.0)

    def expectation(self, contract: DataContract) -> tuple[str, dict[str, Any]]:
        """Every (or `mostly` of the) relative difference(s) at most the tolerance."""
        return "ExpectColumnValuesToBeBetween", {
            "column": self.derived_column,
            "min_value": 0,
            "max_value": self.max_relative_difference,
            "mostly": self.mostly,
        }


class BlankOnlyWhen(_Rule):
    """`column` may be blank only on rows where `when_column` holds one of `when_values`."""

    kind: Literal["blank_only_when"]
    when_column: str
    when_values: tuple[str | float, ...] = Field(min_length=1)

    @property
    def reads(self) -> tuple[str, ...]:
        """The possibly blank column and the column that allows it."""
        return (self.column, self.when_column)

    @property
    def derived_column(self) -> str:
        """`when_column`'s value on the rows where `column` is blank (null elsewhere)."""
        return f"{self.when_column} where {self.column} is blank"

    @property
    def summary(self) -> str:
        """The rule in a few words, for tables and reports."""
        values = " or ".join(_plain(v) for v in self.when_values)
        return f"blank only when {self.when_column} is {values}"

    def derive(self, text: pd.DataFrame, numbers: pd.DataFrame) -> pd.Series:
        """`when_column` (as a number when the contract says numeric) where `column` is blank."""
        source = numbers if self.when_column in numbers.columns else text
        return source[self.when_column].where(text[self.column].isna())

    def expectation(self, contract: DataContract) -> tuple[str, dict[str, Any]]:
        """The derived values (only rows with a blank) must be among `when_values`.

        The values are compared as numbers when the contract declares `when_column`
        numeric (so 0 matches "0.0"), else as the text found in the file.
        """
        numeric = self.when_column in contract.numeric
        values = [float(v) if numeric else _plain(v) for v in self.when_values]
        return "ExpectColumnValuesToBeInSet", {"column": self.derived_column, "value_set": values}


Rule = Annotated[ApproxProduct | BlankOnlyWhen, Field(discriminator="kind")]


class DataRules(FrozenModel):
    """All cross-column rules of a data set (possibly none)."""

    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> DataRules:
        names = [rule.name for rule in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique: {duplicates}")
        return self

    def check_against(
        self, contract: DataContract, path: Path = Path("config/data_rules.yaml")
    ) -> None:
        """Refuse rules that name columns the contract does not declare as they need.

        Raises:
            ContractError: naming the file, and each rule and column that does not match
                (an unknown column, a non-numeric factor, non-numeric when_values).
        """
        known = set(contract.columns)
        problems = []
        for index, rule in enumerate(self.rules):
            where = f"rules[{index}] ({rule.name})"
            problems += [
                f"{where}: {column!r} is not a column of the contract"
                for column in rule.reads
                if column not in known
            ]
            if isinstance(rule, ApproxProduct):
                problems += [
                    f"{where}: {column!r} is not numeric in the contract (approx_product "
                    "multiplies numbers)"
                    for column in rule.reads
                    if column in known and column not in contract.numeric
                ]
            if isinstance(rule, BlankOnlyWhen):
                problems += _when_values_problems(rule, contract, where)
        if problems:
            raise ContractError(contract_mismatch(path, problems))


def _when_values_problems(rule: BlankOnlyWhen, contract: DataContract, where: str) -> list[str]:
    """when_values must be numbers when the condition column is numeric."""
    if rule.when_column in contract.numeric and not all(_is_number(v) for v in rule.when_values):
        return [
            f"{where}: when_values must be numbers because "
            f"{rule.when_column!r} is numeric in the contract"
        ]
    return []


def _is_number(value: str | float) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _plain(value: str | float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def load_rules(path: Path, contract: DataContract) -> DataRules:
    """Read the rules file and check it against the contract, with one readable error.

    Raises:
        ContractError: the file is missing, not YAML, or describes invalid rules.
    """
    if not path.is_file():
        raise ContractError(f"data rules not found: {path} (write `rules: []` there to have none)")
    rules = load_yaml(path, DataRules, "data rules", ContractError)
    rules.check_against(contract, path)
    return rules
