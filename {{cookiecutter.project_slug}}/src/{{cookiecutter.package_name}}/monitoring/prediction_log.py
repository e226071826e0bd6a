"""Read the prediction log the service writes (format: `layout.PredictionRecord`).

The log is a folder: every service process (blue, green, a load-test service,
each uvicorn worker) writes its own `*.jsonl` files there, rotated by size, so
no two processes ever write into one file. `read_prediction_log` reads them
all, or one file given directly. One JSON object per line, streamed, so a large
log never has to fit in memory before the first malformed line is reported
with its file and line number. A file's last line without its newline (a
process killed in the middle of a write) is not a record yet: it is skipped
and counted, never an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DriftError
from ..layout import PREDICTION_LOG_SUFFIX, PredictionRecord


class PredictionLogError(DriftError):
    """A prediction log line does not follow the format, or there is no log."""


def log_files(path: Path) -> list[Path]:
    """The files of a log folder (oldest name first), or `[path]` for a single file.

    Raises:
        PredictionLogError: nothing exists at `path`.
    """
    if path.is_dir():
        return sorted(p for p in path.glob(f"*{PREDICTION_LOG_SUFFIX}") if p.is_file())
    if path.is_file():
        return [path]
    raise PredictionLogError(f"prediction log not found: {path}")


def has_records(path: Path) -> bool:
    """True when `path` is a log file, or a folder holding at least one non-empty log file."""
    try:
        return any(p.stat().st_size > 0 for p in log_files(path))
    except (PredictionLogError, OSError):
        return False


@dataclass
class LogReading:
    """What reading a log found: the files, the records, the incomplete last lines skipped."""

    path: Path
    files: list[Path] = field(default_factory=list)
    records: int = 0
    incomplete: int = 0

    def describe(self) -> str:
        """E.g. 'logs/predictions (3 files, 12,345 records)'."""
        text = f"{self.path} ({len(self.files)} files, {self.records:,} records"
        if self.incomplete:
            text += f", {self.incomplete} incomplete last line(s) skipped"
        return text + ")"


def _records_of(file: Path, reading: LogReading) -> Iterator[PredictionRecord]:
    try:
        handle = file.open(encoding="utf-8")
    except FileNotFoundError:
        return  # removed by the service's retention while we listed: nothing to read
    except OSError as err:
        raise PredictionLogError(f"cannot read {file}: {err}") from err
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = PredictionRecord.from_json(line)
            except (ValueError, TypeError) as err:
                if not line.endswith("\n"):  # the writer was stopped mid-line
                    reading.incomplete += 1
                    return
                raise PredictionLogError(
                    f"{file}:{number}: not a prediction record: {err}"
                ) from err
            reading.records += 1
            yield record


def read_prediction_log(
    path: Path, reading: LogReading | None = None
) -> Iterator[PredictionRecord]:
    """Stream the records of a log folder (every file) or of one file; blank lines skipped.

    Args:
        path: the log folder, or one `.jsonl` file.
        reading: filled in while reading (files, records, incomplete lines).

    Raises:
        PredictionLogError: no log at `path`, or a line is malformed (file and line given).
    """
    reading = reading if reading is not None else LogReading(path)
    reading.files = log_files(path)
    for file in reading.files:
        yield from _records_of(file, reading)
