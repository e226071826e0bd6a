"""Single-row prediction latency, measured for one model or for several side by side.

A latency measured on one machine says little about another: the gate compares a
candidate with its baseline only when both were timed here, in the same process,
on the same rows, their calls interleaved so that whatever else the machine does
slows both alike (see `gate/costs.py`).
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

LATENCY_CALLS = 200
# `train` records its model's latency for the model card and as an advisory figure (the
# gate times both models side by side itself): at most this long, at least this many
# calls. A 13 ms pipeline stops after ~80 calls instead of spending 2.6 s on 200; a
# model of 100 ms a call would otherwise add 20 s to every training.
TRAIN_LATENCY_SECONDS = 1.0
TRAIN_LATENCY_MIN_CALLS = 50


def measure_side_by_side(
    models: Mapping[str, Any],
    rows: pd.DataFrame,
    calls: int = LATENCY_CALLS,
    *,
    budget_seconds: float | None = None,
    min_calls: int = 1,
) -> dict[str, dict[str, float]]:
    """Median and 95th percentile of single-row `predict_proba` time per model, in ms.

    Call i scores row i (cycling) with every model, in an order that rotates with i,
    so neither model is always first after a pause. With `budget_seconds`, the
    timing stops once that much time has passed and `min_calls` calls were made
    (`calls` stays the most).
    """
    names = list(models)
    singles = [rows.iloc[[i % len(rows)]] for i in range(calls)]
    for name in names:  # warm-up: the first call pays one-off costs
        models[name].predict_proba(singles[0])
    durations: dict[str, list[float]] = {name: [] for name in names}
    deadline = None if budget_seconds is None else time.perf_counter() + budget_seconds
    for i, row in enumerate(singles):
        if deadline is not None and i >= min_calls and time.perf_counter() > deadline:
            break
        for offset in range(len(names)):
            name = names[(i + offset) % len(names)]
            start = time.perf_counter()
            models[name].predict_proba(row)
            durations[name].append((time.perf_counter() - start) * 1000)
    return {name: _percentiles(values) for name, values in durations.items()}


def measure_latency(
    model: Any,
    rows: pd.DataFrame,
    calls: int = LATENCY_CALLS,
    *,
    budget_seconds: float | None = None,
    min_calls: int = 1,
) -> dict[str, float]:
    """Median and 95th percentile of one model's single-row `predict_proba` time, in ms."""
    timed = measure_side_by_side(
        {"model": model}, rows, calls, budget_seconds=budget_seconds, min_calls=min_calls
    )
    return timed["model"]


def serialized_size(model: Any) -> int:
    """Bytes of the model as `train` saves it (joblib), measured without writing a file."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.tell()


def _percentiles(durations: list[float]) -> dict[str, float]:
    p50, p95 = np.percentile(durations, [50, 95])
    return {"p50": float(p50), "p95": float(p95)}
