"""Check a chunk of a file to score against the data contract, column by column.

Batch scoring reads files of millions of rows, so checking a value at a time in
Python would cost more than scoring. Each column arrives dictionary-coded
(`Coded`: its distinct texts and, per row, the index of its text), which both
readers produce cheaply; every distinct text is checked once, and the verdicts
reach the rows through the codes with numpy. A row that breaks the contract is
never dropped silently: `check_chunk` returns it with every reason, and the
caller fails or skips it, as asked, naming its line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..contract.model import CategoricalColumn, DataContract, NumericColumn


@dataclass(frozen=True)
class Coded:
    """One column of a chunk: `texts[codes[i]]` is the text of row i (None: no value)."""

    texts: Sequence[str | None]
    codes: np.ndarray

    @classmethod
    def from_values(cls, values: Sequence[str | None]) -> Coded:
        """Code plain values (one per row); used by the CSV reader and tests."""
        texts = tuple(dict.fromkeys(values))
        index = {text: i for i, text in enumerate(texts)}
        codes = np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=len(values))
        return cls(texts, codes)


@dataclass(frozen=True)
class BadRow:
    """A row that breaks the contract: its position in the chunk and every reason."""

    row: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CheckedChunk:
    """The model input of a chunk's good rows, and its bad rows with their reasons."""

    feed: dict[str, np.ndarray]
    good: np.ndarray  # boolean mask over the chunk's rows
    bad: list[BadRow] = field(default_factory=list)


def _numeric_verdict(  # noqa: PLR0911 (one return per reason reads best)
    text: str | None, spec: NumericColumn
) -> tuple[float, str]:
    """(value, '') for a valid text, (nan, reason) otherwise."""
    if text is None or text in spec.missing_values or not text.strip():
        if not spec.nullable:
            return math.nan, "is blank but the column is not nullable"
        return (math.nan if spec.fill_missing is None else spec.fill_missing), ""
    try:
        value = float(text)
    except ValueError:
        return math.nan, f"{text!r} is not a number"
    if not math.isfinite(value):
        return math.nan, f"{text!r} is not a finite number"
    if spec.dtype == "int" and not value.is_integer():
        return math.nan, f"{text!r} is not a whole number"
    if spec.min is not None and value < spec.min:
        return math.nan, f"{text} is below the minimum {spec.min:g}"
    if spec.max is not None and value > spec.max:
        return math.nan, f"{text} is above the maximum {spec.max:g}"
    return value, ""


def _categorical_verdict(text: str | None, spec: CategoricalColumn) -> tuple[object, str]:
    """(value, '') for an allowed text (typed as the contract says), (None, reason) otherwise."""
    if text is None or text == "":
        if spec.nullable:
            return None, ""
        return None, "is blank but the column is not nullable"
    if spec.dtype == "int":
        try:
            number = int(text)
        except ValueError:
            return None, f"{text!r} is not one of {list(spec.values)}"
        return (number, "") if number in spec.values else (None, f"{text!r} is not allowed")
    if text in spec.values:
        return text, ""
    return None, f"{text!r} is not one of the {len(spec.values)} allowed values"


def _numeric_column(column: Coded, spec: NumericColumn) -> tuple[np.ndarray, np.ndarray, list[str]]:
    verdicts = [_numeric_verdict(text, spec) for text in column.texts]
    values = np.array([v for v, _ in verdicts], dtype=np.float32)
    reasons = [reason for _, reason in verdicts]
    bad = np.array([bool(reason) for reason in reasons], dtype=bool)
    return values[column.codes].reshape(-1, 1), bad[column.codes], reasons


def _categorical_column(
    column: Coded, spec: CategoricalColumn
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    verdicts = [_categorical_verdict(text, spec) for text in column.texts]
    values: np.ndarray
    if spec.dtype == "int":
        values = np.array([0 if v is None else int(str(v)) for v, _ in verdicts], dtype=np.int64)
    else:
        values = np.empty(len(verdicts), dtype=object)
        values[:] = [v for v, _ in verdicts]
    reasons = [reason for _, reason in verdicts]
    bad = np.array([bool(reason) for reason in reasons], dtype=bool)
    return values[column.codes].reshape(-1, 1), bad[column.codes], reasons


def check_chunk(contract: DataContract, columns: Mapping[str, Coded], rows: int) -> CheckedChunk:
    """Check every feature column of a chunk; build the ONNX feed of its good rows.

    Args:
        contract: the data contract (feature columns, types, ranges, allowed values).
        columns: the chunk's columns by name (extra columns are ignored).
        rows: how many rows the chunk has.

    Raises:
        KeyError: a feature column is absent (the caller checks the header first).
    """
    feed: dict[str, np.ndarray] = {}
    bad_any = np.zeros(rows, dtype=bool)
    per_column: list[tuple[str, Coded, np.ndarray, list[str]]] = []
    for name, numeric in contract.numeric.items():
        values, bad, reasons = _numeric_column(columns[name], numeric)
        feed[name] = values
        per_column.append((name, columns[name], bad, reasons))
        bad_any |= bad
    for name, categorical in contract.categorical.items():
        values, bad, reasons = _categorical_column(columns[name], categorical)
        feed[name] = values
        per_column.append((name, columns[name], bad, reasons))
        bad_any |= bad
    good = ~bad_any
    bad_rows = []
    for row in np.flatnonzero(bad_any).tolist():
        row_reasons = tuple(
            f"{name} {texts_reasons[column.codes[row]]}"
            for name, column, bad, texts_reasons in per_column
            if bad[row]
        )
        bad_rows.append(BadRow(row, row_reasons))
    if bad_rows:
        feed = {name: values[good] for name, values in feed.items()}
    return CheckedChunk(feed=feed, good=good, bad=bad_rows)


def missing_columns(contract: DataContract, header: Sequence[str]) -> list[str]:
    """The contract's feature columns a file's header lacks (the file cannot be scored)."""
    present = set(header)
    return [name for name in contract.feature_columns if name not in present]


def row_ids(ids: Coded | None, lines: np.ndarray, good: np.ndarray) -> np.ndarray:
    """The id of each good row: its id column's text, else (absent or blank) its line number."""
    if ids is None:
        numbers: np.ndarray = lines[good].astype(str).astype(object)
        return numbers
    texts = np.empty(len(ids.texts), dtype=object)
    texts[:] = ["" if t is None else t for t in ids.texts]
    chosen: np.ndarray = texts[ids.codes[good]]
    blank = chosen == ""
    if blank.any():
        chosen[blank] = lines[good][blank].astype(str)
    return chosen
