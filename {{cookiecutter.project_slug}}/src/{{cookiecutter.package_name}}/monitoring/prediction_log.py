"""Read the prediction log the service writes (format: `layout.PredictionRecord`).

One JSON object per line, streamed, so a large log never has to fit in memory
before the first malformed line is reported with its line number.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import DriftError
from ..layout import PredictionRecord


class PredictionLogError(DriftError):
    """A prediction log line does not follow the format."""


def read_prediction_log(path: Path) -> Iterator[PredictionRecord]:
    """Stream the records of a log, blank lines skipped.

    Raises:
        PredictionLogError: the file is absent or a line is malformed (line number given).
    """
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError as err:
        raise PredictionLogError(f"prediction log not found: {path}") from err
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield PredictionRecord.from_json(line)
            except (ValueError, TypeError) as err:
                raise PredictionLogError(
                    f"{path}:{number}: not a prediction record: {err}"
                ) from err
