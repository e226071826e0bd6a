"""Append a sample of predictions to a JSONL file that the drift monitor reads.

One object per line: {"ts", "model_version", "features", "score"}. Sampling
keeps the cost bounded at high traffic; the file is opened in append mode and
flushed per line, so a crash loses at most the line being written.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO


def log_record(features: Mapping[str, Any], score: float, model_version: str) -> dict[str, Any]:
    """The JSON object written for one prediction."""
    now = time.time()
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    return {"ts": ts, "model_version": model_version, "features": dict(features), "score": score}


class PredictionLog:
    """Thread-safe, sampled JSONL writer."""

    def __init__(self, path: Path, sample: float, seed: int | None = None) -> None:
        """Open `path` for appending (parents created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: TextIO = path.open("a", encoding="utf-8")
        self._sample = sample
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def write(
        self, rows: Sequence[Mapping[str, Any]], scores: Sequence[float], version: str
    ) -> None:
        """Write the sampled subset of these predictions."""
        with self._lock:
            for row, score in zip(rows, scores, strict=True):
                if self._sample < 1.0 and self._random.random() >= self._sample:
                    continue
                self._handle.write(json.dumps(log_record(row, score, version)) + "\n")
            self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._handle.close()
