"""The two views of a data file that the checks run on (see `plan.py` for which check uses which).

Why two views: validation must describe the file as it is, including values the
model could never use. The *file view* keeps every column the file has, under
its own name, as the text that was written, so the column-set check sees extra
or renamed columns and a failure quotes the offending text ('ten', 'Maybe').
Numeric rules need numbers, so the *derived view* parses the contract's numeric
columns leniently (unparseable text becomes null there; the file view's type
check reports it, so nothing is reported twice) and adds the computed columns:
the class-balance indicator, the missing-field count per line and one column
per cross-column rule. Blank values (an empty field, or a column's declared
`missing_values`) are nulls in both views, so null checks and "blank only
when" rules agree.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..contract.model import DataContract
from .plan import FIELDS_MISSING, positive_indicator
from .rules import DataRules


def _as_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Parquet stores 1 as 1.0 in float columns: compare as "1"
    return str(value)


def file_view(raw: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """The file's own columns as text (None for blanks), in the file's order.

    Args:
        raw: the table as `io.datasets.read_raw` returns it (text for CSV, typed for Parquet).
        contract: says which extra values count as blank in each numeric column.
    """
    columns: dict[str, pd.Series] = {}
    for name in raw.columns:
        column = raw[name]
        if pd.api.types.is_string_dtype(column.dtype) and (
            column.dtype != object or pd.api.types.infer_dtype(column, skipna=True) == "string"
        ):
            text = column.astype(object)  # a text column (every CSV column): keep as is
        else:
            text = column.astype(object).map(_as_text)  # typed (Parquet) or mixed values
        blanks = {""}
        if name in contract.numeric:
            blanks |= set(contract.numeric[name].missing_values)
        values = text.to_numpy(dtype=object, copy=True)
        values[(text.isna() | text.isin(blanks)).to_numpy()] = None  # pandas' where() gives NaN
        columns[str(name)] = pd.Series(values, index=raw.index, dtype=object)
    return pd.DataFrame(columns, index=raw.index)


def derived_view(
    raw: pd.DataFrame,
    text: pd.DataFrame,
    contract: DataContract,
    rules: DataRules,
    fields: pd.Series | None = None,
) -> pd.DataFrame:
    """Numbers and computed columns for the range, balance, line and cross-column checks.

    Columns whose inputs are missing from the file are left out; their checks are
    reported as skipped, after the column-set check has named what is missing.

    Args:
        raw: the table as read.
        text: `file_view(raw, contract)`.
        contract: which columns are numeric, the target and its positive label.
        rules: the cross-column rules to compute.
        fields: fields found on each line of a CSV file (`io.datasets.fields_per_line`);
            None for Parquet, which has no lines to truncate.
    """
    derived = pd.DataFrame(index=text.index)
    if contract.id_column in text.columns:  # lets failures name rows by id
        derived[contract.id_column] = text[contract.id_column]
    missing_fields = pd.Series(0, index=raw.index, dtype="int64")
    if fields is not None and len(fields) == len(raw):
        missing_fields = (len(raw.columns) - pd.Series(fields.to_numpy(), index=raw.index)).clip(0)
    derived[FIELDS_MISSING] = missing_fields
    numbers = pd.DataFrame(index=text.index)
    for name in contract.numeric:
        if name in text.columns:
            numbers[name] = pd.to_numeric(text[name], errors="coerce")
            derived[name] = numbers[name]
    target = contract.target
    if target.column in text.columns:
        labels = {target.positive: 1.0, target.negative: 0.0}
        derived[positive_indicator(contract)] = text[target.column].map(labels).astype("float64")
    for rule in rules.rules:
        if all(c in text.columns for c in rule.reads):
            derived[rule.derived_column] = rule.derive(text, numbers)
    return derived
