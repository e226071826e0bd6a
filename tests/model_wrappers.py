"""Regressions the template tests inject into a rendered project's trained model.

Loaded by the project's own Python (the tests put this folder on its PYTHONPATH),
so this module imports nothing from the template's tests: a pickled wrapper must
unpickle in the project's environment.
"""

from __future__ import annotations

import time
from typing import Any


class FiveTimesSlower:
    """A fitted pipeline whose every prediction takes at least 5x as long: the rest is sleep.

    Relative to its own work, so the slowdown holds on a fast or a busy machine alike.
    """

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def predict_proba(self, rows: Any) -> Any:
        start = time.perf_counter()
        scores = self.pipeline.predict_proba(rows)
        time.sleep(4 * (time.perf_counter() - start))
        return scores


class FiveTimesBigger:
    """A fitted pipeline that carries four times its own size of dead weight."""

    def __init__(self, pipeline: Any, size_bytes: int) -> None:
        self.pipeline = pipeline
        self.ballast = bytes(4 * size_bytes)

    def predict_proba(self, rows: Any) -> Any:
        return self.pipeline.predict_proba(rows)
