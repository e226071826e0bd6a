"""The validation plan: every check a data file must pass, derived from the contract and rules.

Each check names a Great Expectations expectation (class name and arguments)
together with what a person needs to read a failure: the column and the rule
in plain words. Keeping the plan as plain data, apart from GX itself, lets the
tests inspect it without the 5-second GX import and keeps one definition of
the checks for the CLI, training and the data tests.

Checks run on one of two views of the file (see `frames.py`):

- "file": the file as text, with blanks as nulls. Whatever concerns what is
  literally written (column names, row count, blanks, categories, ids, labels,
  and whether a numeric column's values parse as numbers) is checked here, so a
  failure quotes the exact offending text.
- "derived": values computed from the file: numeric columns as numbers (for
  ranges), a 0/1 indicator of the positive label (for class balance), the count
  of fields missing from each line, and one column per cross-column rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..contract.model import Bounds, DataContract
from .rules import DataRules

Stage = Literal["file", "derived"]

TABLE = "(table)"
LINES = "(lines)"
FIELDS_MISSING = "fields missing from the line"
INTEGER_PATTERN = r"^\s*[+-]?\d+(?:\.0*)?\s*$"
NUMBER_PATTERN = r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$"


@dataclass(frozen=True)
class Check:
    """One expectation plus the words that explain it.

    Attributes:
        key: stable identifier, e.g. "tenure:range"; links GX results back to the check.
        stage: which view of the file the expectation runs on.
        expectation: class name in `great_expectations.expectations`.
        kwargs: the expectation's arguments.
        column: what the failure table shows as the column.
        rule: the rule in plain words.
        reads: file columns the check needs; when one is missing the check is skipped
            (the column-set check already reports the missing column).
        detail: a longer explanation for the HTML report (a rule's description).
    """

    key: str
    stage: Stage
    expectation: str
    kwargs: dict[str, Any]
    column: str
    rule: str
    reads: tuple[str, ...] = ()
    detail: str = ""


def positive_indicator(contract: DataContract) -> str:
    """Name of the derived 0/1 column that marks rows with the positive label."""
    return f"{contract.target.column} is {contract.target.positive!r}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _range_words(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)}"
    if low is not None:
        return f"at least {_number(low)}"
    return f"at most {_number(high)}" if high is not None else "any value"


def _blank_words(missing_values: tuple[str, ...]) -> str:
    tokens = [repr(v) for v in missing_values if v != ""]
    return "no blanks" + (f" ({', '.join(tokens)} counts as blank)" if tokens else "")


def _one_of(values: list[str]) -> str:
    listed = ", ".join(values)
    return f"one of: {listed}" if len(listed) <= 32 else f"one of the {len(values)} listed values"


def _table_checks(contract: DataContract) -> list[Check]:
    checks = [
        Check(
            "table:columns",
            "file",
            "ExpectTableColumnsToMatchSet",
            {"column_set": list(contract.columns), "exact_match": True},
            TABLE,
            "columns exactly as in the contract",
        )
    ]
    rows: Bounds = contract.rows
    if rows.min is not None or rows.max is not None:
        checks.append(
            Check(
                "table:rows",
                "file",
                "ExpectTableRowCountToBeBetween",
                {
                    "min_value": None if rows.min is None else int(rows.min),
                    "max_value": None if rows.max is None else int(rows.max),
                },
                TABLE,
                f"row count {_range_words(rows.min, rows.max)}",
            )
        )
    checks.append(
        Check(
            "lines:complete",
            "derived",
            "ExpectColumnValuesToBeBetween",
            {"column": FIELDS_MISSING, "min_value": 0, "max_value": 0},
            LINES,
            "no short lines (value: fields missing)",
        )
    )
    return checks


def _not_null(name: str, missing_values: tuple[str, ...] = ()) -> Check:
    return Check(
        f"{name}:not_null",
        "file",
        "ExpectColumnValuesToNotBeNull",
        {"column": name},
        name,
        _blank_words(missing_values),
        (name,),
    )


def _in_set(key: str, name: str, values: list[str], words: str) -> Check:
    kwargs = {"column": name, "value_set": values}
    return Check(key, "file", "ExpectColumnValuesToBeInSet", kwargs, name, words, (name,))


def _numeric_checks(contract: DataContract) -> list[Check]:
    checks: list[Check] = []
    for name, spec in contract.numeric.items():
        if not spec.nullable:
            checks.append(_not_null(name, spec.missing_values))
        integer = spec.dtype == "int"
        checks.append(
            Check(
                f"{name}:type",
                "file",
                "ExpectColumnValuesToMatchRegex",
                {"column": name, "regex": INTEGER_PATTERN if integer else NUMBER_PATTERN},
                name,
                "is a whole number" if integer else "is a number",
                (name,),
            )
        )
        if spec.min is not None or spec.max is not None:
            checks.append(
                Check(
                    f"{name}:range",
                    "derived",
                    "ExpectColumnValuesToBeBetween",
                    {"column": name, "min_value": spec.min, "max_value": spec.max},
                    name,
                    _range_words(spec.min, spec.max),
                    (name,),
                )
            )
    return checks


def _categorical_checks(contract: DataContract) -> list[Check]:
    checks: list[Check] = []
    for name, spec in contract.categorical.items():
        if not spec.nullable:
            checks.append(_not_null(name))
        values = [str(v) for v in spec.values]
        checks.append(_in_set(f"{name}:allowed", name, values, _one_of(values)))
    return checks


def _id_and_target_checks(contract: DataContract) -> list[Check]:
    checks: list[Check] = []
    if contract.id_column:
        name = contract.id_column
        checks.append(_not_null(name))
        checks.append(
            Check(
                f"{name}:unique",
                "file",
                "ExpectColumnValuesToBeUnique",
                {"column": name},
                name,
                "unique (one row per id)",
                (name,),
            )
        )
    target = contract.target
    labels = list(target.labels)
    checks.append(_not_null(target.column))
    checks.append(_in_set(f"{target.column}:labels", target.column, labels, _one_of(labels)))
    rate = target.positive_rate
    if rate.min is not None or rate.max is not None:
        checks.append(
            Check(
                f"{target.column}:positive_rate",
                "derived",
                "ExpectColumnMeanToBeBetween",
                {
                    "column": positive_indicator(contract),
                    "min_value": rate.min,
                    "max_value": rate.max,
                },
                target.column,
                f"share of {target.positive!r} {_range_words(rate.min, rate.max)}",
                (target.column,),
            )
        )
    return checks


def _rule_checks(contract: DataContract, rules: DataRules) -> list[Check]:
    checks = []
    for rule in rules.rules:
        expectation, kwargs = rule.expectation(contract)
        checks.append(
            Check(
                f"rule:{rule.name}",
                "derived",
                expectation,
                kwargs,
                rule.column,
                rule.summary,
                rule.reads,
                rule.description,
            )
        )
    return checks


def build_plan(contract: DataContract, rules: DataRules) -> tuple[Check, ...]:
    """Every check for files described by `contract`, in the order a person reads them."""
    checks = [
        *_table_checks(contract),
        *_id_and_target_checks(contract),
        *_numeric_checks(contract),
        *_categorical_checks(contract),
        *_rule_checks(contract, rules),
    ]
    return tuple(checks)
