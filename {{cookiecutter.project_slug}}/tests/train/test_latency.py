"""Latency timing: every model gets the same rows, and train's timing is bounded in time."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from {{ cookiecutter.package_name }}.train.latency import measure_latency, measure_side_by_side

ROWS = pd.DataFrame({"x": range(10)})


class Counting:
    """A model that records the rows it scored and takes `seconds` per call."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.rows: list[int] = []

    def predict_proba(self, rows: pd.DataFrame) -> Any:
        self.rows.append(int(rows["x"].iloc[0]))
        if self.seconds:
            time.sleep(self.seconds)
        return [[0.5, 0.5]]


def test_side_by_side_models_score_the_same_rows_once_each_call() -> None:
    first, second = Counting(), Counting()
    timed = measure_side_by_side({"a": first, "b": second}, ROWS, calls=25)
    assert first.rows == second.rows  # one warm-up, then rows 0..9 cycling
    assert first.rows[1:] == [i % 10 for i in range(25)]
    assert set(timed) == {"a", "b"}
    assert set(timed["a"]) == {"p50", "p95"}


def test_a_budget_stops_after_the_minimum_once_the_time_is_spent() -> None:
    slow = Counting(seconds=0.002)
    measure_latency(slow, ROWS, calls=200, budget_seconds=0.0, min_calls=5)
    assert len(slow.rows) == 1 + 5  # warm-up, then the minimum: the budget was spent at once


def test_a_fast_model_makes_every_call_within_its_budget() -> None:
    fast = Counting()
    measure_latency(fast, ROWS, calls=40, budget_seconds=60.0, min_calls=5)
    assert len(fast.rows) == 1 + 40
