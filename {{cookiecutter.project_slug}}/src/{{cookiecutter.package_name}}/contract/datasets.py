"""Read tabular files and give them the types the data contract declares.

Reading is split from typing on purpose: the raw frame keeps every value as the
text found in the file, so validation can report exactly what was there, and
only clean data reaches the model.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from .model import DataContract

_SNIFF_BYTES = 64 * 1024


def _check_text(path: Path, head: bytes) -> None:
    if not head.strip():
        raise DataFileError(f"{path} is empty: expected a CSV file with a header row")
    if b"\x00" in head:
        raise DataFileError(f"{path} looks binary (NUL bytes): expected a CSV or Parquet file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not merely a character cut at the sniff boundary
            raise DataFileError(
                f"{path} is not UTF-8 text (bad byte at offset {err.start}); "
                "re-save it as UTF-8 CSV"
            ) from err


def _check_delimiter(path: Path, head: bytes) -> None:
    header = head.decode("utf-8", errors="replace").splitlines()[0]
    if "," in header:
        return
    try:
        dialect = csv.Sniffer().sniff(header, delimiters=";\t|")
    except csv.Error:
        return
    raise DataFileError(
        f"{path} seems to use {dialect.delimiter!r} as delimiter; expected comma-separated values"
    )


def read_raw(path: Path) -> pd.DataFrame:
    """Read a CSV (every value as text) or a Parquet file, with readable errors."""
    if not path.exists():
        raise DataFileError(f"data file not found: {path}")
    if path.suffix.lower() in {".parquet", ".pq"}:
        try:
            return pd.read_parquet(path)
        except Exception as err:  # pyarrow raises many types for broken files
            raise DataFileError(f"{path} is not a readable Parquet file: {err}") from err
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    _check_text(path, head)
    _check_delimiter(path, head)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataFileError(f"{path} is not UTF-8 text; re-save it as UTF-8 CSV") from err
    except pd.errors.ParserError as err:
        raise DataFileError(f"{path} is not a well-formed CSV: {err}") from err
    if frame.empty:
        raise DataFileError(f"{path} has a header but no rows")
    return frame


def fields_per_line(path: Path) -> pd.Series:
    """How many fields each data line of a CSV file has, in row order.

    pandas pads a line that ends early with blanks, which makes a truncated line
    look like a row of empty values; counting the fields tells the two apart.
    Blank lines are skipped, as pandas skips them.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        counts = [len(record) for record in csv.reader(handle) if record]
    return pd.Series(counts[1:], dtype="int64")


def to_typed(raw: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """Apply the contract's types and quirk rules; columns the contract does not know are dropped.

    Raises:
        DataFileError: a required column is absent or holds values of the wrong type.
    """
    missing = [c for c in contract.columns if c not in raw.columns]
    if missing:
        raise DataFileError(f"columns missing from the data: {', '.join(missing)}")
    typed = pd.DataFrame(index=raw.index)
    if contract.id_column:
        typed[contract.id_column] = raw[contract.id_column].astype(str)
    for name, spec in contract.numeric.items():
        text = raw[name].astype("string")
        blank = text.isin(list(spec.missing_values)) | text.isna()
        values = pd.to_numeric(text.where(~blank), errors="coerce")
        bad = values.isna() & ~blank
        if bad.any():
            examples = ", ".join(repr(v) for v in text[bad].unique()[:3])
            raise DataFileError(f"column {name!r} must be numeric; found {examples}")
        if spec.fill_missing is not None:
            values = values.fillna(spec.fill_missing)
        typed[name] = values.astype("float64")
    for name, cat in contract.categorical.items():
        column = raw[name]
        if cat.dtype == "int":
            numbers = pd.to_numeric(column, errors="coerce")
            if numbers.isna().any():
                examples = ", ".join(repr(v) for v in column[numbers.isna()].unique()[:3])
                raise DataFileError(f"column {name!r} must hold integers; found {examples}")
            typed[name] = numbers.astype("int64")
        else:
            typed[name] = column.astype(str)
    typed[contract.target.column] = raw[contract.target.column].astype(str)
    return typed


def fingerprint(path: Path) -> str:
    """sha256 of the file's bytes: identifies the exact data a model was trained on."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
