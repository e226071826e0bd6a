from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.train.split import (
    ids_fingerprint,
    row_keys,
    stratified_split,
)


def _frame(n: int = 1000, positive_share: float = 0.25) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": [f"c{i:05d}" for i in range(n)], "x": rng.normal(size=n)})
    labels = pd.Series((np.arange(n) < n * positive_share).astype(int), index=frame.index)
    return frame, labels


def test_same_rows_every_run() -> None:
    frame, labels = _frame()
    first = stratified_split(frame, labels, "id", 0.2, seed=42)
    second = stratified_split(frame, labels, "id", 0.2, seed=42)
    assert first.test.equals(second.test)
    assert first.train.equals(second.train)


def test_row_order_does_not_matter() -> None:
    frame, labels = _frame()
    shuffled = frame.sample(frac=1.0, random_state=1)
    split = stratified_split(frame, labels, "id", 0.2, seed=42)
    reordered = stratified_split(shuffled, labels.loc[shuffled.index], "id", 0.2, seed=42)
    assert set(frame.loc[split.test, "id"]) == set(shuffled.loc[reordered.test, "id"])


def test_stratified_and_disjoint() -> None:
    frame, labels = _frame(n=1000, positive_share=0.25)
    split = stratified_split(frame, labels, "id", 0.2, seed=42)
    assert len(split.test) == 200
    assert labels.loc[split.test].sum() == 50  # exactly 20% of each class
    assert set(split.train).isdisjoint(split.test)
    assert len(split.train) + len(split.test) == len(frame)


def test_seed_changes_the_split() -> None:
    frame, labels = _frame()
    a = stratified_split(frame, labels, "id", 0.2, seed=1)
    b = stratified_split(frame, labels, "id", 0.2, seed=2)
    assert not a.test.equals(b.test)


def test_adding_rows_keeps_most_of_the_test_set() -> None:
    frame, labels = _frame(n=1000)
    grown, grown_labels = _frame(n=1100)
    before = set(frame.loc[stratified_split(frame, labels, "id", 0.2, 42).test, "id"])
    after = set(grown.loc[stratified_split(grown, grown_labels, "id", 0.2, 42).test, "id"])
    assert len(before & after) / len(before) > 0.8


def test_without_id_column_uses_position() -> None:
    frame, labels = _frame()
    split = stratified_split(frame.drop(columns="id"), labels, None, 0.2, seed=42)
    assert len(split.test) == 200
    assert list(row_keys(frame.head(3), None)) == ["0", "1", "2"]


@pytest.mark.parametrize("size", [0, 1, -0.1, 1.5])
def test_bad_test_size(size: float) -> None:
    frame, labels = _frame()
    with pytest.raises(ValueError, match="test_size"):
        stratified_split(frame, labels, "id", size, seed=42)


def test_duplicate_ids_are_refused() -> None:
    frame, labels = _frame()
    frame.loc[1, "id"] = frame.loc[0, "id"]
    with pytest.raises(ValueError, match="duplicate"):
        stratified_split(frame, labels, "id", 0.2, seed=42)


def test_ids_fingerprint_ignores_order_but_not_content() -> None:
    keys = pd.Series(["b", "a", "c"])
    assert ids_fingerprint(keys) == ids_fingerprint(pd.Series(["c", "b", "a"]))
    assert ids_fingerprint(keys) != ids_fingerprint(pd.Series(["a", "b"]))
