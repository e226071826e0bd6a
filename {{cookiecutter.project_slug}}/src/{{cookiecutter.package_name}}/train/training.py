"""Fit and score a model in memory: the deterministic heart of `train` and `evaluate`.

Nothing here touches files or MLflow, so the model tests can train twice in the
same process and compare, and a bad configuration can be tried without side
effects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..contract.model import DataContract
from ..errors import TrainingDataError
from .config import TrainingConfig
from .estimator import ProbabilisticClassifier, build_estimator
from .features import build_pipeline
from .metrics import SliceTable, classification_metrics, slice_metrics
from .split import Split, ids_fingerprint, row_keys, stratified_split


@dataclass(frozen=True)
class Evaluation:
    """A model's scores on a set of rows."""

    proba: npt.NDArray[np.float64]
    metrics: dict[str, float]
    slices: SliceTable


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline together with the split it was fitted on and its test scores."""

    pipeline: Any
    split: Split
    test_ids_fingerprint: str
    evaluation: Evaluation


def binary_labels(frame: pd.DataFrame, contract: DataContract) -> pd.Series:
    """1 for the contract's positive label, 0 for its negative one.

    Raises:
        TrainingDataError: the target holds a label the contract does not declare.
    """
    target = contract.target
    column = frame[target.column].astype(str)
    unknown = sorted(set(column.unique()) - set(target.labels))
    if unknown:
        raise TrainingDataError(
            f"target {target.column!r} holds labels {unknown[:5]} besides the contract's "
            f"{list(target.labels)}"
        )
    return (column == target.positive).astype(int)


def feature_frame(frame: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """The model's inputs only, in contract order: what the pipeline is fitted on."""
    return frame[contract.feature_columns]


def split_frame(frame: pd.DataFrame, contract: DataContract, config: TrainingConfig) -> Split:
    """The configured deterministic stratified split of a typed frame."""
    return stratified_split(
        frame, binary_labels(frame, contract), contract.id_column, config.test_size, config.seed
    )


def rows_fingerprint(frame: pd.DataFrame, contract: DataContract) -> str:
    """Fingerprint of the ids of `frame`'s rows (pass the test rows)."""
    return ids_fingerprint(row_keys(frame, contract.id_column))


def positive_proba(model: ProbabilisticClassifier, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Probability of the positive class for every row."""
    return np.asarray(model.predict_proba(frame), dtype=float)[:, 1]


def evaluate(
    model: ProbabilisticClassifier,
    frame: pd.DataFrame,
    contract: DataContract,
    config: TrainingConfig,
) -> Evaluation:
    """Score `model` on the rows of `frame`, overall and per configured slice."""
    labels = binary_labels(frame, contract).to_numpy()
    proba = positive_proba(model, frame)
    slices = config.slices
    return Evaluation(
        proba=proba,
        metrics=classification_metrics(labels, proba, config.threshold),
        slices=slice_metrics(
            frame,
            labels,
            proba,
            threshold=config.threshold,
            columns=slices.columns,
            min_rows=slices.min_rows,
            min_positives=slices.min_positives,
        ),
    )


def train(frame: pd.DataFrame, contract: DataContract, config: TrainingConfig) -> TrainedModel:
    """Split, fit the configured pipeline on the training rows, score it on the test rows.

    Raises:
        TrainingDataError: the training rows hold a single class.
        TrainingConfigError: the estimator cannot be built.
    """
    split = split_frame(frame, contract, config)
    train_rows, test_rows = frame.loc[split.train], frame.loc[split.test]
    labels = binary_labels(train_rows, contract)
    if labels.nunique() < 2:
        raise TrainingDataError("the training rows hold a single class; nothing to learn")
    pipeline = build_pipeline(contract, build_estimator(config.estimator, config.seed))
    pipeline.fit(feature_frame(train_rows, contract), labels.to_numpy())
    return TrainedModel(
        pipeline=pipeline,
        split=split,
        test_ids_fingerprint=rows_fingerprint(test_rows, contract),
        evaluation=evaluate(pipeline, test_rows, contract, config),
    )
