"""`metrics/metrics.json`: the committed record of the current model's quality.

The file is compared across commits (the gate reads the target branch's copy),
so its content must be a pure function of data, config and code: sorted keys,
floats rounded to 6 decimals, no run ids or timestamps. Latency is the one
measured value in it: it depends on the machine, so the gate only reports it
and times the models itself when it has to decide.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config_files import validation_problems
from ..errors import MetricsFileError
from ..layout import MetricsRecord

DIGITS = 6


def rounded(value: Any, digits: int = DIGITS) -> Any:
    """Round every float in nested dicts and lists; NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(key): rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item, digits) for item in value]
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    return value


def write_metrics(path: Path, record: MetricsRecord) -> Path:
    """Write the record deterministically (sorted keys, rounded floats, trailing newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = rounded(record.model_dump(mode="json"))
    text = json.dumps(payload, indent=2, sort_keys=True, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def parse_metrics(text: str, source: str) -> dict[str, Any]:
    """A metrics record from its JSON text, checked against `MetricsRecord`.

    Raises:
        MetricsFileError: not JSON, or not shaped like a metrics record.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise MetricsFileError(f"metrics file {source} is not valid JSON: {err}") from err
    if not isinstance(data, dict) or "metrics" not in data:
        raise MetricsFileError(f"metrics file {source} has no 'metrics' section")
    try:
        MetricsRecord.model_validate(data)
    except ValidationError as err:
        raise MetricsFileError(
            f"metrics file {source} is not a metrics record: {validation_problems(err)}"
        ) from err
    return data


def read_metrics(path: Path) -> dict[str, Any]:
    """Read a metrics file written by `write_metrics` (as a plain dict, for the gate's rules).

    Raises:
        MetricsFileError: it is absent or corrupt (the message says what to run).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise MetricsFileError(f"metrics file not found: {path} (run `make train` first)") from err
    return parse_metrics(text, str(path))
