"""Draft a data contract from a data file, for a person to review.

Bringing new data means describing it in `config/data_contract.yaml`. Most of
that description can be read off the file itself: which columns hold numbers
(whole or not), their observed range, which hold a few distinct labels, where
blanks occur. This module makes that first draft from the file's text (as
`read_raw` returns it), so the user reviews a complete contract instead of
typing one; the choices it cannot make (which label is the positive class when
nothing says so, ranges wider than this one file) are written as comments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ContractError
from .model import DataContract

# A column of whole numbers with at most this many distinct values is a flag or a
# code (0/1, 1/2/3): categorical. More distinct values: a count or a measure.
MAX_INTEGER_CODES = 2
# A text column with more distinct values than this is free text or an identifier,
# not a category: the draft says so instead of listing thousands of values.
MAX_CATEGORIES = 100
# Labels that name the positive class when a target has exactly these two.
POSITIVE_WORDS = ("yes", "true", "1", "y", "positive")


@dataclass(frozen=True)
class DraftRequest:
    """What the user says about the file; everything else is read from it."""

    data_file: Path
    target: str
    positive: str | None = None
    id_column: str | None = None
    name: str | None = None


@dataclass
class Draft:
    """The drafted contract (as the YAML mapping) and the notes a reviewer must read."""

    contract: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _blank(text: pd.Series) -> pd.Series:
    return text.isna() | (text.astype(str).str.strip() == "")


def _numbers(values: pd.Series) -> pd.Series | None:
    parsed = pd.to_numeric(values, errors="coerce")
    return None if parsed.isna().any() else parsed


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else float(number)


def _outward(low: float, high: float, whole: bool) -> tuple[int | float, int | float]:
    """The observed range, rounded outward to whole numbers for decimals."""
    if whole:
        return int(low), int(high)
    return _plain(math.floor(low)), _plain(math.ceil(high))


def _missing_values(text: pd.Series, blank: pd.Series) -> list[str]:
    return sorted({str(v) for v in text[blank].dropna()}) or [""]


def _numeric_spec(text: pd.Series, blank: pd.Series, parsed: pd.Series) -> dict[str, Any]:
    whole = bool((parsed % 1 == 0).all()) and not text[~blank].str.contains(r"[.eE]").any()
    low, high = _outward(float(parsed.min()), float(parsed.max()), whole)
    spec: dict[str, Any] = {"dtype": "int" if whole else "float", "min": low, "max": high}
    if blank.any():
        spec["nullable"] = True
        spec["missing_values"] = _missing_values(text, blank)
    return spec


def _column_spec(name: str, text: pd.Series, notes: list[str]) -> tuple[str, dict[str, Any]]:
    """("numeric" | "categorical", the column's entry) for one feature column."""
    blank = _blank(text)
    present = text[~blank].astype(str)
    if present.empty:
        raise ContractError(f"column {name!r} is blank on every row: drop it or fill it")
    parsed = _numbers(present)
    if parsed is not None:
        whole_codes = (parsed % 1 == 0).all() and parsed.nunique() <= MAX_INTEGER_CODES
        if not whole_codes:
            return "numeric", _numeric_spec(text, blank, parsed)
        values: list[str | int] = sorted({int(v) for v in parsed})
        spec: dict[str, Any] = {"dtype": "int", "values": values}
    else:
        distinct = sorted(set(present))
        if len(distinct) > MAX_CATEGORIES:
            notes.append(
                f"{name}: {len(distinct)} distinct text values, listed as categories; if it is "
                "free text or an identifier, drop it from the file or make it the id_column"
            )
        spec = {"values": distinct}
    if blank.any():
        spec["nullable"] = True
        notes.append(f"{name}: blank on {int(blank.sum())} rows (nullable: true)")
    return "categorical", spec


def _positive_label(labels: list[str], frame: pd.Series, request: DraftRequest) -> str:
    if request.positive is not None:
        if request.positive not in labels:
            raise ContractError(
                f"--positive {request.positive!r} is not a label of {request.target!r} "
                f"(labels: {', '.join(labels)})"
            )
        return request.positive
    for label in labels:
        if label.strip().lower() in POSITIVE_WORDS:
            return label
    counts = frame.value_counts()
    return str(counts.index[-1])  # the rarer label: what a model usually has to find


def _target(frame: pd.DataFrame, request: DraftRequest, notes: list[str]) -> dict[str, Any]:
    if request.target not in frame.columns:
        raise ContractError(
            f"target column {request.target!r} is not in the file "
            f"(columns: {', '.join(frame.columns)})"
        )
    labels_seen = frame[request.target].astype(str)
    labels = sorted(set(labels_seen))
    if len(labels) != 2:
        raise ContractError(
            f"target column {request.target!r} must hold exactly two labels; found "
            f"{len(labels)}: {', '.join(labels[:10])}"
        )
    positive = _positive_label(labels, labels_seen, request)
    negative = next(label for label in labels if label != positive)
    if request.positive is None:
        notes.append(f"target: {positive!r} taken as the positive label (--positive to choose)")
    rate = float((labels_seen == positive).mean())
    return {
        "column": request.target,
        "positive": positive,
        "negative": negative,
        "positive_rate": {
            "min": round(max(0.0, rate / 2), 2),
            "max": round(min(1.0, rate * 2), 2) if rate > 0 else 1.0,
        },
    }


def _id_column(frame: pd.DataFrame, request: DraftRequest, notes: list[str]) -> str | None:
    if request.id_column is not None:
        if request.id_column not in frame.columns:
            raise ContractError(f"id column {request.id_column!r} is not in the file")
        return request.id_column
    for name in frame.columns:
        text = frame[name].astype(str)
        unique_text = text.is_unique and _numbers(text) is None
        if name != request.target and unique_text and name.lower().endswith("id"):
            notes.append(f"{name}: unique on every row, taken as the id column (--id to choose)")
            return str(name)
    return None


def draft_contract(frame: pd.DataFrame, request: DraftRequest) -> Draft:
    """A contract describing `frame` (every value as text); checked to load as a contract."""
    notes: list[str] = []
    target = _target(frame, request, notes)
    id_column = _id_column(frame, request, notes)
    numeric: dict[str, Any] = {}
    categorical: dict[str, Any] = {}
    for name in frame.columns:
        if name in {request.target, id_column}:
            continue
        kind, spec = _column_spec(str(name), frame[name], notes)
        (numeric if kind == "numeric" else categorical)[str(name)] = spec
    rows = len(frame)
    contract: dict[str, Any] = {
        "name": request.name or request.data_file.stem,
        "version": 1,
        "description": f"Drafted from {request.data_file.as_posix()} ({rows:,} rows).",
        "data_file": request.data_file.as_posix(),
        "id_column": id_column,
        "target": target,
        "rows": {"min": max(1, rows // 2), "max": rows * 100},
        "numeric": numeric,
        "categorical": categorical,
    }
    if id_column is None:
        del contract["id_column"]
    DataContract.model_validate(contract)  # a draft that does not load is a bug here
    return Draft(contract, notes)
