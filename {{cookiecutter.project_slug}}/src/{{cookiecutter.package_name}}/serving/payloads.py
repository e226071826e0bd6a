"""Request bodies built from rows of a data file, typed by the contract.

The load test, the smoke checks and the benchmark send real customers rather
than invented ones, and this module needs only the csv module, so it also runs
where pandas is not installed.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from ..contract.model import PARQUET_SUFFIXES, DataContract


def typed_row(raw: dict[str, str], contract: DataContract) -> dict[str, Any]:
    """One CSV record as the API expects it (missing numeric values become null)."""
    row: dict[str, Any] = {}
    if contract.id_column and contract.id_column in raw:
        row[contract.id_column] = raw[contract.id_column]
    for column, spec in contract.numeric.items():
        text = raw[column]
        if text in spec.missing_values or text == "":
            row[column] = None
        else:
            row[column] = int(float(text)) if spec.dtype == "int" else float(text)
    for column, cat in contract.categorical.items():
        row[column] = int(raw[column]) if cat.dtype == "int" else raw[column]
    return row


def _records(path: Path) -> list[dict[str, str]]:
    """The file's records as text, a missing value blank (as a CSV holds them)."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        records = _parquet_records(path)
    else:
        with path.open(newline="", encoding="utf-8") as handle:
            records = list(csv.DictReader(handle))
    if not records:
        raise ValueError(f"{path} has no rows to build requests from")
    return records


def _parquet_records(path: Path) -> list[dict[str, str]]:
    """A Parquet file's rows with each value spelled as a CSV of the same table spells it."""
    import pyarrow.parquet as pq  # only for Parquet data: CSV needs nothing but the csv module

    return [
        {name: "" if value is None else str(value) for name, value in row.items()}
        for row in pq.read_table(path).to_pylist()
    ]


def all_rows(path: Path, contract: DataContract) -> list[dict[str, Any]]:
    """Every row of the file, typed: traffic drawn from it looks like the training data."""
    return [typed_row(record, contract) for record in _records(path)]


def sample_rows(
    path: Path, contract: DataContract, count: int, seed: int = 0
) -> list[dict[str, Any]]:
    """`count` rows drawn (seeded, with replacement if needed) from the file."""
    records = _records(path)
    rng = random.Random(seed)
    picked = rng.sample(records, count) if count <= len(records) else rng.choices(records, k=count)
    return [typed_row(record, contract) for record in picked]
