"""`metrics/metrics.json`: the committed record of the current model's quality.

The file is compared across commits (the gate reads the target branch's copy),
so its content must be a pure function of data, config and code: sorted keys,
floats rounded to 6 decimals, no run ids or timestamps. Latency is the one
measured value in it; the gate compares it with a tolerance.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

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


def write_metrics(path: Path, payload: dict[str, Any]) -> Path:
    """Write the payload deterministically (sorted keys, rounded floats, trailing newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(rounded(payload), indent=2, sort_keys=True, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_metrics(path: Path) -> dict[str, Any]:
    """Read a metrics file written by `write_metrics`."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
