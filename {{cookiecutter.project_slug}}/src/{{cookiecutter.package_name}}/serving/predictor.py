"""Score validated rows with the exported ONNX model, or the pipeline as a fallback.

ONNX Runtime scores a row in ~0.05 ms where the scikit-learn pipeline needs
10-16 ms of pandas work per request, which is what makes the service fast and
its image small. Feature values are fed column by column, in the dtype the
export declared for each contract column.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..contract.model import DataContract
from ..errors import ModelLoadError
from ..layout import METADATA_FILE, ONNX_FILE, PIPELINE_FILE, ModelMetadata

logger = logging.getLogger(__name__)


Row = Mapping[str, Any]


class Predictor(Protocol):
    """Anything that turns rows of contract features into positive-class probabilities."""

    kind: str

    def predict(self, rows: Sequence[Row]) -> list[float]:
        """Probabilities of the positive label, one per row."""
        ...

    def predict_columns(self, feed: Mapping[str, np.ndarray]) -> np.ndarray:
        """The same from typed columns ([n, 1] per contract column, as `onnx_feed` builds)."""
        ...

    def predict_many(
        self, rows: Sequence[Row], columns: Mapping[str, Sequence[Any]]
    ) -> list[float]:
        """`predict(rows)`, when each feature column's values are at hand too (a batch's are)."""
        ...


class OnnxFeed:
    """Builds ONNX Runtime's input: one [n, 1] array per contract column, typed as exported.

    The column lists, dtypes and fill values are worked out once; per request the
    values of each dtype go into one array (a row per column), and each column's
    input is a contiguous view of its row: three numpy calls per request instead
    of two per column.

    A single row (every POST /predict) skips even that: each thread keeps one
    [1, 1] array per column and the row's values are written into them (2 us
    instead of 24 us). ONNX Runtime reads the arrays during `run` only, and no
    other thread sees this thread's arrays, so reuse is safe.
    """

    def __init__(self, contract: DataContract) -> None:
        """Group the contract's columns by the dtype the export declared."""
        self.numeric = list(contract.numeric)
        self.fills = [
            math.nan if spec.fill_missing is None else float(spec.fill_missing)
            for spec in contract.numeric.values()
        ]
        self.integer = [c for c, cat in contract.categorical.items() if cat.dtype == "int"]
        self.text = [c for c, cat in contract.categorical.items() if cat.dtype != "int"]
        self._local = threading.local()

    def _cells(self) -> tuple[dict[str, np.ndarray], list[tuple[str, float | None, np.ndarray]]]:
        """This thread's [1, 1] array per column, and (column, fill, array) to write them."""
        cells: tuple[dict[str, np.ndarray], list[tuple[str, float | None, np.ndarray]]] | None = (
            getattr(self._local, "cells", None)
        )
        if cells is None:
            feed: dict[str, np.ndarray] = {}
            slots: list[tuple[str, float | None, np.ndarray]] = []
            groups: tuple[tuple[list[str], list[float] | list[None], type], ...] = (
                (self.numeric, self.fills, np.float32),
                (self.integer, [None] * len(self.integer), np.int64),
                (self.text, [None] * len(self.text), object),
            )
            for columns, fills, dtype in groups:
                for column, fill in zip(columns, fills, strict=True):
                    feed[column] = np.empty((1, 1), dtype=dtype)
                    slots.append((column, fill, feed[column]))
            cells = self._local.cells = (feed, slots)
        return cells

    def one(self, row: Row) -> dict[str, np.ndarray]:
        """The feed for one row, in this thread's reused arrays (valid until its next call).

        Only numeric columns have fills (NaN when none); in the others None stays None.
        """
        feed, slots = self._cells()
        for column, fill, cell in slots:
            value = row.get(column)
            cell[0, 0] = fill if value is None else value
        return feed

    def __call__(self, rows: Sequence[Row]) -> dict[str, np.ndarray]:
        """The feed for `rows` (validated: every column present, None only where nullable)."""
        names = [*self.numeric, *self.integer, *self.text]
        return self.columns({name: [row.get(name) for row in rows] for name in names})

    def columns(self, values: Mapping[str, Sequence[Any]]) -> dict[str, np.ndarray]:
        """The feed from each column's values in row order (validated, None only where nullable).

        A batch's validator has the columns already: no pass over the rows here.
        """
        feed: dict[str, np.ndarray] = {}
        if self.numeric:
            numbers = [
                values[column]
                if None not in values[column]
                else [fill if value is None else value for value in values[column]]
                for column, fill in zip(self.numeric, self.fills, strict=True)
            ]
            self._split(feed, self.numeric, np.array(numbers, dtype=np.float32))
        if self.integer:
            integers = [values[column] for column in self.integer]
            self._split(feed, self.integer, np.array(integers, dtype=np.int64))
        if self.text:
            texts = [values[column] for column in self.text]
            self._split(feed, self.text, np.array(texts, dtype=object))
        return feed

    @staticmethod
    def _split(feed: dict[str, np.ndarray], columns: list[str], matrix: np.ndarray) -> None:
        """Row i of `matrix` becomes column i's [n, 1] input (a view, no copy)."""
        for index, column in enumerate(columns):
            feed[column] = matrix[index].reshape(-1, 1)


class OnnxPredictor:
    """ONNX Runtime on one thread: one worker per core scales better than threads per request."""

    kind = "onnx"

    def __init__(self, path: Path, contract: DataContract, threads: int = 1) -> None:
        """Open the session once; `run` is thread-safe. Batch scoring asks for more threads."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._contract = contract
        self._feed = OnnxFeed(contract)
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "probabilities" if "probabilities" in outputs else outputs[-1]
        required = [i.name for i in self._session.get_inputs() if not i.type.startswith("optional")]
        unfed = sorted(set(required) - set(contract.feature_columns))
        if unfed:
            raise ModelLoadError(
                f"{path} expects input(s) {', '.join(unfed)} that the data contract has no "
                "feature column for: run `make train` again"
            )
        # ONNX Runtime's Python `run` checks the feed's names against the model's inputs on
        # every call (~10 us, a sixth of the model's own time). The feed always has the
        # contract's columns, checked once above, so the session underneath is called
        # directly when the runtime has one (it always has had).
        self._run = getattr(self._session, "_sess", self._session).run

    def predict(self, rows: Sequence[Row]) -> list[float]:
        """Positive-class probabilities (column 1 of the probability output)."""
        feed = self._feed.one(rows[0]) if len(rows) == 1 else self._feed(rows)
        (probabilities,) = self._run([self._output], feed, None)
        scores: list[float] = probabilities[:, 1].tolist()
        return scores

    def predict_columns(self, feed: Mapping[str, np.ndarray]) -> np.ndarray:
        """Positive-class probabilities of typed columns (batch scoring's path)."""
        (probabilities,) = self._run([self._output], dict(feed), None)
        return np.asarray(probabilities[:, 1], dtype=np.float64)

    def predict_many(
        self, rows: Sequence[Row], columns: Mapping[str, Sequence[Any]]
    ) -> list[float]:
        """`predict(rows)` from the columns: the same input arrays, built without the rows."""
        (probabilities,) = self._run([self._output], self._feed.columns(columns), None)
        scores: list[float] = probabilities[:, 1].tolist()
        return scores


class PipelinePredictor:
    """The scikit-learn pipeline itself: slow (pandas per request) but always available."""

    kind = "pipeline"

    def __init__(self, path: Path, contract: DataContract) -> None:
        """Load the joblib pipeline; needs the `train` dependency group."""
        import joblib

        self._pipeline = joblib.load(path)
        self._contract = contract

    def predict(self, rows: Sequence[Row]) -> list[float]:
        """Positive-class probabilities through pandas and the pipeline."""
        import pandas as pd

        columns = self._contract.feature_columns
        frame = pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=columns)
        for column, spec in self._contract.numeric.items():
            if spec.fill_missing is not None:
                frame[column] = frame[column].fillna(spec.fill_missing)
        return [float(p) for p in self._pipeline.predict_proba(frame)[:, 1]]

    def predict_many(
        self, rows: Sequence[Row], columns: Mapping[str, Sequence[Any]]
    ) -> list[float]:
        """`predict(rows)` itself: its frame's dtypes come from the rows (identical scores)."""
        return self.predict(rows)

    def predict_columns(self, feed: Mapping[str, np.ndarray]) -> np.ndarray:
        """Positive-class probabilities of typed columns, through pandas and the pipeline."""
        import pandas as pd

        columns = self._contract.feature_columns
        frame = pd.DataFrame({c: feed[c].ravel() for c in columns}, columns=columns)
        return np.asarray(self._pipeline.predict_proba(frame)[:, 1], dtype=np.float64)


@dataclass(frozen=True)
class LoadedModel:
    """A predictor with what the service reports about it."""

    predictor: Predictor
    metadata: ModelMetadata

    @property
    def version(self) -> str:
        """The model version (layout.ModelMetadata's one rule)."""
        return self.metadata.model_version

    @property
    def threshold(self) -> float:
        """Decision threshold the model was evaluated with."""
        return self.metadata.threshold

    def predict_columns(self, feed: Mapping[str, np.ndarray]) -> np.ndarray:
        """Positive-class probabilities of typed columns (see `Predictor.predict_columns`)."""
        return self.predictor.predict_columns(feed)


def load_model(model_dir: Path, contract: DataContract, threads: int = 1) -> LoadedModel:
    """The ONNX model if exported, else the pipeline with a clear warning.

    One thread per session suits the service (one worker per core); batch
    scoring, alone on the machine, passes the number of cores.
    """
    if not (model_dir / METADATA_FILE).is_file():
        raise ModelLoadError(f"no trained model in {model_dir}: run `make train` first")
    try:
        metadata = ModelMetadata.read(model_dir)
    except ValueError as err:
        raise ModelLoadError(f"{model_dir / METADATA_FILE} is unreadable: {err}") from err
    trained_with = metadata.contract_fingerprint
    if trained_with and trained_with != contract.fingerprint():
        raise ModelLoadError(
            f"the model in {model_dir} was trained with data contract {trained_with}, "
            f"the current one is {contract.fingerprint()}: run `make train` again"
        )
    if (model_dir / ONNX_FILE).is_file():
        return LoadedModel(OnnxPredictor(model_dir / ONNX_FILE, contract, threads), metadata)
    if (model_dir / PIPELINE_FILE).is_file():
        logger.warning(
            "no %s in %s: serving the scikit-learn pipeline, which is ~30x slower "
            "and needs the train dependencies (the export failed at training time)",
            ONNX_FILE,
            model_dir,
        )
        return LoadedModel(PipelinePredictor(model_dir / PIPELINE_FILE, contract), metadata)
    raise ModelLoadError(f"{model_dir} has neither {ONNX_FILE} nor {PIPELINE_FILE}")
