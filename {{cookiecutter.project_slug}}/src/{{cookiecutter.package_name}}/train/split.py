"""A deterministic, stratified train/test split that depends on row identity, not row order.

Each row gets a score: the sha256 of the seed and its id. Within each class the
rows with the lowest scores form the test set. So the same rows land in the test
set on every run and on every machine, reordering the file changes nothing, and
adding rows only moves a few existing rows in or out: metrics stay comparable
between a model and its baseline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Split:
    """Index labels of the training and test rows, each in the frame's original order."""

    train: pd.Index
    test: pd.Index


def row_keys(frame: pd.DataFrame, id_column: str | None) -> pd.Series:
    """What identifies a row: its id, or its position when the contract declares no id."""
    if id_column is not None:
        return frame[id_column].astype(str)
    return pd.Series([str(i) for i in range(len(frame))], index=frame.index)


def _scores(keys: pd.Series, seed: int) -> pd.Series:
    return keys.map(lambda key: hashlib.sha256(f"{seed}:{key}".encode()).hexdigest())


def stratified_split(
    frame: pd.DataFrame, labels: pd.Series, id_column: str | None, test_size: float, seed: int
) -> Split:
    """Hold out `test_size` of each class, chosen by the hash of seed and row key.

    Raises:
        ValueError: `test_size` is not strictly between 0 and 1, or ids repeat.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    keys = row_keys(frame, id_column)
    if not keys.is_unique:
        raise ValueError(f"id column {id_column!r} has duplicate values; ids must be unique")
    scores = _scores(keys, seed)
    test_labels: list[object] = []
    for _, members in scores.groupby(labels, sort=True):
        count = round(len(members) * test_size)
        test_labels.extend(members.sort_values(kind="stable").index[:count])
    in_test = frame.index.isin(test_labels)
    return Split(train=frame.index[~in_test], test=frame.index[in_test])


def ids_fingerprint(keys: pd.Series) -> str:
    """sha256 of the sorted row keys: says whether two evaluations used the same test rows."""
    joined = "\n".join(sorted(keys.astype(str)))
    return hashlib.sha256(joined.encode()).hexdigest()
