"""Read the two sides of a drift check: the training data and recent data.

Recent data is either the service's prediction log (a folder of JSON Lines
files, or one such file, see prediction_log.py) or a table (CSV/Parquet) with the contract's feature
columns, optionally a `score` column and the target column. Labels that arrive
later can be joined on the contract's id column from a separate file.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract.datasets import read_raw
from ..contract.model import DataContract
from ..contract.pii import is_hashed, pii_hash
from ..errors import DataFileError, DriftError
from .frames import Sample, categorical_view, feature_view, missing_features, numeric_view
from .prediction_log import LogReading, read_prediction_log

LOG_SUFFIXES = frozenset({".jsonl", ".ndjson"})
SCORE_COLUMN = "score"


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (as text) or Parquet file; read problems become DriftError."""
    try:
        return read_raw(path)
    except DataFileError as err:
        raise DriftError(str(err)) from err


def _require_features(frame: pd.DataFrame, contract: DataContract, source: str) -> None:
    absent = missing_features(frame, contract)
    if absent:
        raise DriftError(f"{source} lacks feature column(s) of the contract: {', '.join(absent)}")


def sample_from_table(raw: pd.DataFrame, contract: DataContract, description: str) -> Sample:
    """A table with the feature columns; `score` and the target column are used when present."""
    _require_features(raw, contract, description)
    has_score = SCORE_COLUMN in raw.columns and SCORE_COLUMN not in contract.columns
    target, id_column = contract.target.column, contract.id_column
    return Sample(
        features=feature_view(raw, contract),
        scores=numeric_view(raw[SCORE_COLUMN]).to_numpy() if has_score else None,
        labels=categorical_view(raw[target]) if target in raw.columns else None,
        ids=raw[id_column].astype(str) if id_column and id_column in raw.columns else None,
        description=description,
    )


def sample_from_log(path: Path, contract: DataContract) -> Sample:
    """Every record of a prediction log (all its files), features as logged, scores as served.

    Personal columns (`pii: true`) are hashed or left out of the log by the
    service: they may be absent here, and drift does not compare them.
    """
    reading = LogReading(path)
    records = list(read_prediction_log(path, reading))
    if not records:
        raise DriftError(f"prediction log {path} holds no records")
    features = pd.DataFrame.from_records([dict(r.features) for r in records])
    personal = set(contract.pii_columns)
    absent = [c for c in missing_features(features, contract) if c not in personal]
    if absent:
        raise DriftError(
            f"prediction log {path} lacks feature column(s) of the contract: {', '.join(absent)}"
        )
    has_labels = any(r.outcome is not None for r in records)
    id_column = contract.id_column
    ids = [r.id or (r.features.get(id_column) if id_column else None) for r in records]
    return Sample(
        features=feature_view(features, contract),
        scores=np.array([r.score for r in records], dtype=np.float64),
        labels=categorical_view(pd.Series([r.outcome for r in records], dtype=object))
        if has_labels
        else None,
        ids=pd.Series([None if i is None else str(i) for i in ids], dtype=object)
        if any(i is not None for i in ids)
        else None,
        description=f"prediction log {reading.describe()}",
        model_versions=dict(Counter(r.model_version for r in records)),
    )


def load_current(path: Path, contract: DataContract) -> Sample:
    """Recent data from a prediction log (a folder, .jsonl/.ndjson) or a table (.csv/.parquet)."""
    if path.is_dir() or path.suffix.lower() in LOG_SUFFIXES:
        return sample_from_log(path, contract)
    return sample_from_table(read_table(path), contract, str(path))


def attach_labels(
    sample: Sample, labels_path: Path, contract: DataContract, pii_key: str = ""
) -> Sample:
    """Join observed outcomes (id column + target column) onto the sample by id.

    When the log holds hashed ids (the id is personal data), the labels' ids are
    hashed with the same key (MLOPS_PREDICTION_LOG_PII_KEY) before joining.

    Raises:
        DriftError: the sample has no ids, or the labels file lacks a column.
    """
    id_column, target = contract.id_column, contract.target.column
    if id_column is None:
        raise DriftError("--labels needs an id_column in the data contract to join on")
    if sample.ids is None:
        raise DriftError(f"--labels: the current data has no {id_column!r} to join labels on")
    raw = read_table(labels_path)
    absent = [c for c in (id_column, target) if c not in raw.columns]
    if absent:
        raise DriftError(f"labels file {labels_path} lacks column(s): {', '.join(absent)}")
    ids = raw[id_column].astype(str)
    if any(is_hashed(i) for i in sample.ids.head(100)):
        ids = ids.map(lambda value: pii_hash(value, pii_key))
    outcome = dict(zip(ids, categorical_view(raw[target]), strict=True))
    labels = pd.Series(
        [outcome.get(i) for i in sample.ids], index=sample.features.index, dtype=object
    )
    return Sample(
        features=sample.features,
        scores=sample.scores,
        labels=labels,
        ids=sample.ids,
        description=f"{sample.description} + labels {labels_path}",
        model_versions=sample.model_versions,
    )
