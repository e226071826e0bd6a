"""Read tabular files and give them the types the data contract declares.

Reading is split from typing on purpose: the raw frame keeps every value as the
text found in the file, so validation can report exactly what was there, and
only clean data reaches the model.

Limits come first, so bad input costs seconds, not memory: a file over
`max_bytes` is refused before it is opened (MLOPS_MAX_DATA_MB), a line longer
than `max_line_bytes` (one huge field) is refused with its line number
(MLOPS_MAX_LINE_KB), and `read_chunks` hands validation the file
`chunk_rows` rows at a time, so its memory does not grow with the file.
Training holds the whole table in memory: `training_memory` estimates what it
needs, for `train` to refuse data beyond its budget before reading it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd

from ..errors import DataFileError
from ..settings import Settings
from .model import PARQUET_SUFFIXES, DataContract

_SNIFF_BYTES = 64 * 1024
_SCAN_BLOCK = 1 << 20
MIB = 1024 * 1024
# Peak memory of `train` per byte of CSV (measured: a 9.8 MB, 70k-row CSV peaks ~180 MB
# above the interpreter: text, typed frame, split, features, fit, evaluation).
TRAIN_BYTES_PER_CSV_BYTE = 20
TRAIN_BYTES_PER_VALUE = 125  # the same per value, for Parquet (sizes on disk are compressed)


@dataclass(frozen=True)
class DataLimits:
    """What a data file may cost before it is refused."""

    max_bytes: int = 1024 * MIB
    max_line_bytes: int = MIB
    chunk_rows: int = 25_000

    @classmethod
    def from_settings(cls, settings: Settings) -> DataLimits:
        """MLOPS_MAX_DATA_MB, MLOPS_MAX_LINE_KB and MLOPS_VALIDATION_CHUNK_ROWS."""
        return cls(
            max_bytes=int(settings.max_data_mb * MIB),
            max_line_bytes=int(settings.max_line_kb * 1024),
            chunk_rows=settings.validation_chunk_rows,
        )


def _size(count: float) -> str:
    """Bytes in the unit of the limits' settings (MiB), or kB for small files."""
    if count >= MIB:
        return f"{count / MIB:,.0f} MiB" if count >= 10 * MIB else f"{count / MIB:,.1f} MiB"
    return f"{count / 1024:,.0f} kB"


def check_size(path: Path, limits: DataLimits) -> int:
    """The file's size in bytes; DataFileError (at once, nothing read) above the limit."""
    if not path.exists():
        raise DataFileError(f"data file not found: {path}")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise DataFileError(
            f"{path} is {_size(size)}, over the limit of {_size(limits.max_bytes)} "
            "(MLOPS_MAX_DATA_MB): use a sample of it, or raise the limit"
        )
    return size


def check_lines(path: Path, limits: DataLimits) -> None:
    """Refuse a line longer than the limit, naming it, without holding it in memory.

    Reads blocks and measures the distance between newlines, so a 100 MB line
    costs one block of memory, not 100 MB. With blocks no larger than the limit
    (the default), a line that fits inside one block is short enough by
    construction and only the newlines at a block's edges need measuring.
    """
    limit = limits.max_line_bytes
    block_size = min(max(limit, 4096), _SCAN_BLOCK)
    run = 0  # bytes since the last newline
    newlines = 0
    with path.open("rb") as handle:
        while block := handle.read(block_size):
            if len(block) > limit:  # a small limit: measure every line of the block
                run = _measure_lines(path, block, run, newlines, limit)
            else:
                first = block.find(b"\n")
                if first == -1:
                    run += len(block)
                elif run + first > limit:
                    run += first
                else:
                    run = len(block) - block.rfind(b"\n") - 1
            if run > limit:
                raise _long_line(path, newlines + 1, limit)
            newlines += block.count(b"\n")


def _measure_lines(path: Path, block: bytes, run: int, newlines: int, limit: int) -> int:
    """The run after `block`, raising at the first line of it longer than `limit`."""
    start = 0
    while (end := block.find(b"\n", start)) != -1:
        if run + end - start > limit:
            raise _long_line(path, newlines + block.count(b"\n", 0, start) + 1, limit)
        run, start = 0, end + 1
    return run + len(block) - start


def _long_line(path: Path, number: int, limit: int) -> DataFileError:
    return DataFileError(
        f"{path}: line {number:,} is longer than {_size(limit)} (MLOPS_MAX_LINE_KB): "
        "a field that large is not tabular data; fix or drop that line"
    )


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


def _check_head(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    _check_text(path, head)
    _check_delimiter(path, head)


def read_raw(path: Path, limits: DataLimits | None = None) -> pd.DataFrame:
    """Read a whole CSV (every value as text) or Parquet file, with readable errors.

    Raises:
        DataFileError: absent, over the size limit, a line over the line limit, or unreadable.
    """
    limits = limits or DataLimits()
    check_size(path, limits)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            return pd.read_parquet(path)
        except Exception as err:  # pyarrow raises many types for broken files
            raise DataFileError(f"{path} is not a readable Parquet file: {err}") from err
    _check_head(path)
    check_lines(path, limits)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataFileError(f"{path} is not UTF-8 text; re-save it as UTF-8 CSV") from err
    except pd.errors.ParserError as err:
        raise DataFileError(f"{path} is not a well-formed CSV: {err}") from err
    if frame.empty:
        raise DataFileError(f"{path} has a header but no rows")
    return frame


def read_as_text(path: Path, limits: DataLimits | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file with every value as text, a missing one blank.

    A CSV comes as `read_raw` reads it. A Parquet file's typed columns come as the same
    table saved as CSV would read back, so code that works on text (drafting a
    contract, corrupting a copy of the data) sees either format alike.

    Raises:
        DataFileError: as `read_raw`.
    """
    frame = read_raw(path, limits)
    if path.suffix.lower() not in PARQUET_SUFFIXES:
        return frame
    text = io.StringIO()
    frame.to_csv(text, index=False)
    text.seek(0)
    return pd.read_csv(text, dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows of a file: the table (text for CSV) and the fields found on each line.

    The frame's index continues across chunks (row numbers of the whole file),
    so a failure names the same row whichever chunk it was found in.
    """

    frame: pd.DataFrame
    fields: pd.Series | None  # fields on each CSV line; None for Parquet


def read_chunks(path: Path, limits: DataLimits | None = None) -> Iterator[Chunk]:
    """The file `limits.chunk_rows` rows at a time: memory stays bounded whatever its size.

    Raises:
        DataFileError: as `read_raw`, found while reading (the line number is given).
    """
    limits = limits or DataLimits()
    check_size(path, limits)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        yield from _parquet_chunks(path, limits)
        return
    _check_head(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from _csv_chunks(path, handle, limits)


def _parquet_chunks(path: Path, limits: DataLimits) -> Iterator[Chunk]:
    try:
        import pyarrow.parquet as pq

        batches = pq.ParquetFile(path).iter_batches(batch_size=limits.chunk_rows)
        start = 0
        for batch in batches:
            frame = batch.to_pandas()
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield Chunk(frame, None)
    except DataFileError:
        raise
    except Exception as err:  # pyarrow raises many types for broken files
        raise DataFileError(f"{path} is not a readable Parquet file: {err}") from err


def _bounded_lines(path: Path, handle: IO[str], limit: int, counter: list[int]) -> Iterator[str]:
    """Physical lines, each at most `limit` characters; counter[0] is the current line number."""
    while True:
        try:
            line = handle.readline(limit + 1)
        except UnicodeDecodeError as err:
            raise DataFileError(
                f"{path}: line {counter[0] + 1:,} is not UTF-8 text; re-save the file as UTF-8 CSV"
            ) from err
        if not line:
            return
        counter[0] += 1
        if len(line) > limit and not line.endswith("\n"):
            raise _long_line(path, counter[0], limit)
        yield line


def _unique_names(header: list[str]) -> list[str]:
    """Duplicate column names get .1, .2 suffixes (as pandas names them)."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}.{count}")
    return names


def _csv_chunks(path: Path, handle: IO[str], limits: DataLimits) -> Iterator[Chunk]:
    line = [0]
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_line_bytes))
    lines = _bounded_lines(path, handle, limits.max_line_bytes, line)
    records = (record for record in csv.reader(lines, strict=True) if record)
    try:
        header = next(records, None)
        if header is None:
            raise DataFileError(f"{path} is empty: expected a CSV file with a header row")
        columns = _unique_names(header)
        width, start = len(columns), 0
        while True:
            rows = list(itertools.islice(records, limits.chunk_rows))
            if not rows:
                break
            fields = [len(row) for row in rows]
            if max(fields) > width:
                raise DataFileError(
                    f"{path} is not a well-formed CSV: a line near line {line[0]:,} has "
                    f"{max(fields)} fields, the header has {width}"
                )
            padded = [row if len(row) == width else row + [""] * (width - len(row)) for row in rows]
            index = pd.RangeIndex(start, start + len(rows))
            frame = pd.DataFrame(padded, columns=columns, index=index, dtype=object)
            start += len(rows)
            yield Chunk(frame, pd.Series(fields, index=index, dtype="int64"))
    except csv.Error as err:
        hint = " (a field over MLOPS_MAX_LINE_KB)" if "field limit" in str(err) else ""
        raise DataFileError(
            f"{path} is not a well-formed CSV: line {line[0]:,}: {err}{hint}"
        ) from err
    if start == 0:
        raise DataFileError(f"{path} has a header but no rows")


def training_memory(path: Path, limits: DataLimits | None = None) -> tuple[int, str]:
    """Bytes `train` needs to hold and fit this file (an estimate), and how it was estimated."""
    size = check_size(path, limits or DataLimits())
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            import pyarrow.parquet as pq

            metadata = pq.ParquetFile(path).metadata
        except Exception as err:  # pyarrow raises many types for broken files
            raise DataFileError(f"{path} is not a readable Parquet file: {err}") from err
        values = metadata.num_rows * metadata.num_columns
        return values * TRAIN_BYTES_PER_VALUE, f"{metadata.num_rows:,} rows"
    return size * TRAIN_BYTES_PER_CSV_BYTE, f"{_size(size)} of CSV"


def fields_per_line(path: Path) -> pd.Series:
    """How many fields each data line of a CSV file has, in row order.

    pandas pads a line that ends early with blanks, which makes a truncated line
    look like a row of empty values; counting the fields tells the two apart.
    Blank lines are skipped, as pandas skips them.
    """
    counts = [c for chunk in read_chunks(path) if chunk.fields is not None for c in chunk.fields]
    return pd.Series(counts, dtype="int64")


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
