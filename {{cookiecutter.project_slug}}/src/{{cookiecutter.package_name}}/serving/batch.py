"""Batch scoring: a CSV or Parquet file in, a file of scores out, in bounded memory.

The file is read in chunks (`chunk_rows` rows), each chunk checked against the
data contract (`batch_check`), its good rows scored by the same ONNX model the
service uses, and written out at once, so memory stays flat whatever the file's
size. Two readers: pyarrow's streaming CSV/Parquet readers when pyarrow is
installed (the project's environment), else the standard library's csv module
(the serving image, which has neither pandas nor pyarrow: CSV only there).

Bad rows are never dropped silently. With `on_error="fail"` the first chunk
holding one stops the run (no output is left behind) and its bad rows are
listed by line; with `"skip"` they are left out of the output, listed by line
in a `<output>.rejected.csv` file and counted in the summary. Input and output
may also be http(s) URLs (e.g. S3 presigned URLs): the input is downloaded, the
output uploaded with a PUT, so a container without cloud SDKs can score files
in S3.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TextIO

import numpy as np

from ..contract.model import PARQUET_SUFFIXES, DataContract
from ..errors import BatchInputError
from .batch_check import Coded, check_chunk, missing_columns, row_ids
from .predictor import LoadedModel

OnError = Literal["fail", "skip"]
DEFAULT_CHUNK_ROWS = 65_536
SHOWN_BAD_ROWS = 10
PROGRESS_MIN_ROWS = 200_000  # smaller files finish before a progress bar helps
PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True)
class Chunk:
    """Rows read from the input: coded columns and each row's line (CSV) or row (Parquet)."""

    columns: dict[str, Coded]
    lines: np.ndarray
    bad: list[tuple[int, str]]  # rows the reader itself could not split: (line, reason)

    @property
    def rows(self) -> int:
        """How many rows the columns hold."""
        return len(self.lines)


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did."""

    rows_in: int
    rows_scored: int
    rejected: int
    seconds: float
    output: str
    rejects_file: Path | None
    rejected_examples: tuple[str, ...]
    reader: str

    @property
    def rows_per_second(self) -> float:
        """End-to-end throughput (read, check, score, write)."""
        return self.rows_in / self.seconds if self.seconds > 0 else 0.0


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _is_parquet(location: str) -> bool:
    return location.split("?", 1)[0].lower().endswith(PARQUET_SUFFIXES)


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------- readers


def _csv_module_chunks(path: Path, chunk_rows: int) -> tuple[list[str], Iterator[Chunk]]:
    """The standard library's reader: exact line numbers, works everywhere."""
    handle = path.open(newline="", encoding="utf-8")
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise BatchInputError(f"{path} is empty: expected a CSV file with a header row") from None
    except UnicodeDecodeError as err:
        handle.close()
        raise BatchInputError(f"{path} is not UTF-8 text: {err}") from err
    width = len(header)

    def chunks() -> Iterator[Chunk]:
        with handle:
            while True:
                records: list[list[str]] = []
                lines: list[int] = []
                append, mark = records.append, lines.append
                try:
                    for record in reader:
                        append(record)
                        mark(reader.line_num)
                        if len(records) >= chunk_rows:
                            break
                except UnicodeDecodeError as err:
                    raise BatchInputError(f"{path} is not UTF-8 text: {err}") from err
                except csv.Error as err:
                    raise BatchInputError(f"{path} line {reader.line_num}: {err}") from err
                if not records:
                    return
                widths = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
                numbers = np.asarray(lines, dtype=np.int64)
                bad = [
                    (int(numbers[i]), f"has {widths[i]} fields, the header {width}")
                    for i in np.flatnonzero((widths != width) & (widths != 0)).tolist()
                ]
                keep = widths == width
                if not keep.all():
                    records = [r for r, k in zip(records, keep.tolist(), strict=True) if k]
                    numbers = numbers[keep]
                columns = list(zip(*records, strict=True)) if records else [() for _ in header]
                coded = {
                    name: Coded.from_values(values)
                    for name, values in zip(header, columns, strict=True)
                }
                yield Chunk(coded, numbers, bad)

    return header, chunks()


def _arrow_coded(array: Any) -> Coded:
    """A pyarrow dictionary column (chunked or not) as Coded."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    texts = array.dictionary.cast(pa.string()).to_pylist()
    indices = array.indices
    if array.null_count:
        indices = indices.fill_null(len(texts))
        texts = [*texts, None]
    codes = indices.to_numpy(zero_copy_only=False)
    return Coded(texts, codes.astype(np.int32, copy=False))


def _without_blank_lines(
    columns: dict[str, Coded], lines: np.ndarray, bad: list[tuple[int, str]]
) -> Chunk:
    """Drop blank lines, which pyarrow reads as rows of empty fields (pandas skips them)."""
    blank = np.ones(len(lines), dtype=bool)
    for column in columns.values():
        empty = [i for i, text in enumerate(column.texts) if text in ("", None)]
        if not empty:
            return Chunk(columns, lines, bad)
        blank &= np.isin(column.codes, empty)
    if not blank.any():
        return Chunk(columns, lines, bad)
    keep = ~blank
    kept = {name: Coded(c.texts, c.codes[keep]) for name, c in columns.items()}
    return Chunk(kept, lines[keep], bad)


def _line_numbers(start: int, count: int, skipped: Collection[int]) -> np.ndarray:
    """The next `count` line numbers from `start`, past the lines the reader `skipped`.

    numpy, not a loop per row: a million-row file would spend a third of a second here.
    """
    gaps = np.array(sorted(n for n in skipped if n >= start), dtype=np.int64)
    numbers = np.arange(start, start + count + len(gaps), dtype=np.int64)
    if len(gaps):
        numbers = numbers[~np.isin(numbers, gaps)]
    return numbers[:count]


def _arrow_csv_chunks(path: Path, chunk_rows: int) -> tuple[list[str], Iterator[Chunk]]:
    """Read with pyarrow's streaming CSV reader, every column dictionary-coded text (fast)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
    except (StopIteration, UnicodeDecodeError) as err:
        raise BatchInputError(
            f"{path} is empty or not UTF-8 text: expected CSV with a header"
        ) from err
    skipped: dict[int, str] = {}

    def invalid(row: Any) -> str:
        if row.text.strip():
            skipped[row.number] = (
                f"has {row.actual_columns} fields, the header {row.expected_columns}"
            )
        else:
            skipped[row.number] = ""  # a blank line: counted, not a row
        return "skip"

    text = pa.dictionary(pa.int32(), pa.string())
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(invalid_row_handler=invalid, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, text),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError) as err:
        raise BatchInputError(f"{path} is not a readable CSV file: {err}") from err

    def chunks() -> Iterator[Chunk]:
        next_line = 2
        try:
            for batch in reader:
                for start in range(0, batch.num_rows, chunk_rows):
                    part = batch.slice(start, chunk_rows)
                    lines = _line_numbers(next_line, part.num_rows, skipped)
                    if len(lines):
                        next_line = int(lines[-1]) + 1
                    bad = [(n, r) for n, r in sorted(skipped.items()) if r and n < next_line]
                    for n in [n for n in skipped if n < next_line]:
                        del skipped[n]
                    columns = {
                        name: _arrow_coded(part.column(i))
                        for i, name in enumerate(part.schema.names)
                    }
                    yield _without_blank_lines(columns, lines, bad)
        except pa.ArrowInvalid as err:
            raise BatchInputError(f"{path} is not a readable CSV file: {err}") from err
        rest = [(n, r) for n, r in sorted(skipped.items()) if r]
        if rest:
            yield Chunk(
                {n: Coded((), np.zeros(0, np.int32)) for n in header}, np.zeros(0, np.int64), rest
            )

    return header, chunks()


def _parquet_chunks(path: Path, chunk_rows: int) -> tuple[list[str], Iterator[Chunk]]:
    """Read with pyarrow's Parquet reader, a batch at a time; 'lines' are row numbers."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise BatchInputError(
            f"{path} is Parquet, which needs pyarrow; this environment (e.g. the serving "
            "image) has none: convert the file to CSV"
        ) from err
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise BatchInputError(f"{path} is not a readable Parquet file: {err}") from err
    header = list(parquet.schema_arrow.names)

    def chunks() -> Iterator[Chunk]:
        first = 1
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            columns = {}
            for i, name in enumerate(batch.schema.names):
                column = batch.column(i)
                if not pa.types.is_string(column.type) and not pa.types.is_dictionary(column.type):
                    column = column.cast(pa.string())
                columns[name] = _arrow_coded(column)
            lines = np.arange(first, first + batch.num_rows, dtype=np.int64)
            first += batch.num_rows
            yield Chunk(columns, lines, [])

    return header, chunks()


def open_chunks(path: Path, chunk_rows: int, reader: str) -> tuple[list[str], Iterator[Chunk]]:
    """The header and the chunks of `path`, read the way `reader` says (auto|arrow|csv)."""
    if not path.is_file():
        raise BatchInputError(f"input file not found: {path}")
    if _is_parquet(str(path)):
        return _parquet_chunks(path, chunk_rows)
    if reader == "arrow" or (reader == "auto" and _has_pyarrow()):
        return _arrow_csv_chunks(path, chunk_rows)
    return _csv_module_chunks(path, chunk_rows)


# ---------------------------------------------------------------- writers


class _Writer(Protocol):
    def write(
        self, ids: np.ndarray, probabilities: np.ndarray, labels: np.ndarray, version: str
    ) -> None: ...

    def close(self) -> None: ...


class _CsvWriter:
    """The standard library's writer (the serving image has no pyarrow)."""

    def __init__(self, path: Path, id_name: str) -> None:
        self._handle = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)
        self._writer.writerow([id_name, "probability", "label", "model_version"])

    def write(
        self, ids: np.ndarray, probabilities: np.ndarray, labels: np.ndarray, version: str
    ) -> None:
        rounded = np.round(probabilities, 6).tolist()
        self._writer.writerows(zip(ids, rounded, labels, [version] * len(ids), strict=True))

    def close(self) -> None:
        self._handle.close()


class _ArrowTableWriter:
    """Writes each chunk's scores as one Arrow table to a pyarrow writer (`_writer`)."""

    _pa: Any
    _schema: Any
    _writer: Any

    def write(
        self, ids: np.ndarray, probabilities: np.ndarray, labels: np.ndarray, version: str
    ) -> None:
        self._writer.write_table(
            _table(
                self._pa,
                self._schema,
                ids=ids,
                probabilities=probabilities,
                labels=labels,
                version=version,
            )
        )

    def close(self) -> None:
        self._writer.close()


class _ArrowCsvWriter(_ArrowTableWriter):
    """The same file through pyarrow's CSV writer, several times faster."""

    def __init__(self, path: Path, id_name: str) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        self._pa = pa
        self._schema = _schema(pa, id_name)
        self._writer = pacsv.CSVWriter(
            str(path), self._schema, write_options=pacsv.WriteOptions(quoting_style="needed")
        )


def _schema(pa: Any, id_name: str) -> Any:
    return pa.schema(
        [
            (id_name, pa.string()),
            ("probability", pa.float64()),
            ("label", pa.string()),
            ("model_version", pa.string()),
        ]
    )


def _table(
    pa: Any,
    schema: Any,
    *,
    ids: np.ndarray,
    probabilities: np.ndarray,
    labels: np.ndarray,
    version: str,
) -> Any:
    return pa.Table.from_arrays(
        [
            pa.array(ids, pa.string()),
            pa.array(np.round(probabilities, 6)),
            pa.array(labels, pa.string()),
            pa.repeat(pa.scalar(version, pa.string()), len(ids)),
        ],
        schema=schema,
    )


class _ParquetWriter(_ArrowTableWriter):
    """Parquet through pyarrow, one row group per chunk."""

    def __init__(self, path: Path, id_name: str) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as err:
            raise BatchInputError(
                "writing Parquet needs pyarrow, which this environment (e.g. the serving image) "
                "lacks: write a .csv output instead"
            ) from err
        self._pa = pa
        self._schema = _schema(pa, id_name)
        self._writer = pq.ParquetWriter(path, self._schema)


class _Rejects:
    """`<output>.rejected.csv`: line, reasons; created on the first rejected row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.shown: list[str] = []
        self._handle: TextIO | None = None
        self._writer: Any = None

    def add(self, line: int, reasons: str) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "reasons"])
        self._writer.writerow([line, reasons])
        self.count += 1
        if len(self.shown) < SHOWN_BAD_ROWS:
            self.shown.append(f"line {line}: {reasons}")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


# ---------------------------------------------------------------- progress


def estimated_rows(path: Path) -> int:
    """Rows a file holds: Parquet says so; for CSV, from the size and the first lines' length."""
    if _is_parquet(str(path)):
        try:
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # an unreadable file is reported by the reader, not here
            return 0
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    lines = head.count(b"\n")
    return int(path.stat().st_size * lines / len(head)) - 1 if lines and head else 0


class Progress:
    """A progress bar on stderr for long files (a plain line every 10 s when not a terminal)."""

    def __init__(self, total_rows: int, stream: TextIO | None = None) -> None:
        """Show progress only for files of at least PROGRESS_MIN_ROWS rows."""
        self._stream = stream or sys.stderr
        self._total = total_rows
        self._on = total_rows >= PROGRESS_MIN_ROWS
        self._tty = self._stream.isatty()
        self._every = PROGRESS_EVERY_S if self._tty else 10.0
        self._started = self._last = time.perf_counter()

    def update(self, rows: int) -> None:
        """Redraw (at most every PROGRESS_EVERY_S) after `rows` rows were done."""
        if not self._on:
            return
        now = time.perf_counter()
        if now - self._last < self._every:
            return
        self._last = now
        rate = rows / (now - self._started)
        done = min(rows / self._total, 1.0)
        bar = "#" * int(done * 30)
        text = f"[{bar:<30}] {done:4.0%} {rows:,} of ~{self._total:,} rows, {rate:,.0f} rows/s"
        self._stream.write(f"\r{text}" if self._tty else f"{text}\n")
        self._stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self._on and self._tty:
            self._stream.write("\n")
            self._stream.flush()


# ---------------------------------------------------------------- the run


def _download(url: str, folder: Path) -> Path:
    name = Path(url.split("?", 1)[0]).name or "input.csv"
    target = folder / name
    try:
        with urllib.request.urlopen(url, timeout=300) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except OSError as err:
        raise BatchInputError(f"cannot download the input {url.split('?', 1)[0]}: {err}") from err
    return target


def _upload(path: Path, url: str) -> None:
    size = path.stat().st_size
    with path.open("rb") as body:
        request = urllib.request.Request(
            url, data=body, method="PUT", headers={"Content-Length": str(size)}
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
        except OSError as err:
            raise BatchInputError(
                f"cannot upload the output to {url.split('?', 1)[0]}: {err}"
            ) from err


def _labels(probabilities: np.ndarray, threshold: float, contract: DataContract) -> np.ndarray:
    labels = np.empty(len(probabilities), dtype=object)
    positive = probabilities >= threshold
    labels[positive] = contract.target.positive
    labels[~positive] = contract.target.negative
    return labels


def _fail_message(source: str, bad: list[tuple[int, str]]) -> str:
    shown = "; ".join(f"line {line}: {reason}" for line, reason in bad[:SHOWN_BAD_ROWS])
    more = (
        f" (and {len(bad) - SHOWN_BAD_ROWS} more in this chunk)"
        if len(bad) > SHOWN_BAD_ROWS
        else ""
    )
    return (
        f"{source}: {len(bad)} row(s) break the data contract: {shown}{more}. "
        "Fix them, or score the rest with --on-error skip (bad rows go to a .rejected.csv file)"
    )


def _reader_name(source: str, reader: str) -> str:
    if _is_parquet(source):
        return "parquet"
    return "arrow" if reader == "arrow" or (reader == "auto" and _has_pyarrow()) else "csv"


def _writer(path: Path, output: str, id_name: str, reader: str) -> _Writer:
    if _is_parquet(output):
        return _ParquetWriter(path, id_name)
    if reader != "csv" and _has_pyarrow():
        return _ArrowCsvWriter(path, id_name)
    return _CsvWriter(path, id_name)


def score_file(
    source: str,
    output: str,
    contract: DataContract,
    model: LoadedModel,
    *,
    on_error: OnError = "fail",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    reader: str = "auto",
    progress_stream: TextIO | None = None,
) -> BatchResult:
    """Score `source` into `output` (paths or http(s) URLs; Parquet or CSV by suffix).

    Raises:
        BatchInputError: the input cannot be read or scored, or (with on_error="fail")
            a row breaks the contract; no output file is left behind.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="batch-") as scratch:
        folder = Path(scratch)
        path = _download(source, folder) if _is_url(source) else Path(source)
        header, chunks = open_chunks(path, chunk_rows, reader)
        absent = missing_columns(contract, header)
        if absent:
            raise BatchInputError(
                f"{source} lacks the contract's feature column(s) {', '.join(absent)}: "
                "it cannot be scored"
            )
        id_column = contract.id_column if contract.id_column in header else None
        if _is_url(output):
            target = folder / ("scores.parquet" if _is_parquet(output) else "scores.csv")
        else:
            target = Path(output)
            target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        rejects = _Rejects(target.with_name(f"{target.stem}.rejected.csv"))
        writer = _writer(partial, output, contract.id_column or "id", reader)
        progress = Progress(estimated_rows(path), progress_stream)
        rows_in = rows_scored = 0
        done = False
        try:
            for chunk in chunks:
                checked = check_chunk(contract, chunk.columns, chunk.rows)
                found = [(int(chunk.lines[b.row]), "; ".join(b.reasons)) for b in checked.bad]
                bad = sorted([*chunk.bad, *found])
                rows_in += chunk.rows + len(chunk.bad)
                if bad and on_error == "fail":
                    raise BatchInputError(_fail_message(source, bad))
                for line, reasons in bad:
                    rejects.add(line, reasons)
                if checked.good.any():
                    probabilities = model.predict_columns(checked.feed)
                    ids = row_ids(
                        chunk.columns[id_column] if id_column else None, chunk.lines, checked.good
                    )
                    labels = _labels(probabilities, model.threshold, contract)
                    writer.write(ids, probabilities, labels, model.version)
                    rows_scored += len(probabilities)
                progress.update(rows_in)
            done = True
        finally:
            writer.close()
            rejects.close()
            progress.finish()
            if not done:
                partial.unlink(missing_ok=True)
                rejects.path.unlink(missing_ok=True)
        os.replace(partial, target)
        if _is_url(output):
            _upload(target, output)
    return BatchResult(
        rows_in=rows_in,
        rows_scored=rows_scored,
        rejected=rejects.count,
        seconds=time.perf_counter() - started,
        output=output.split("?", 1)[0],
        rejects_file=rejects.path if rejects.count and not _is_url(output) else None,
        rejected_examples=tuple(rejects.shown),
        reader=_reader_name(source, reader),
    )
