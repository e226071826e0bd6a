"""The trained model, as far as drift checks need it: scores, threshold and version.

Reference scores come from running the current model (models/current) on the
training data; a current file without a `score` column is scored the same way.
The model is optional: without one, the score and concept checks are skipped
with a note, and joblib (with scikit-learn behind it) is only imported when a
model file exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..contract import DataContract
from .errors import DriftError

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
_VERSION_KEYS = ("model_version", "version", "registered_version")


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline with what its metadata says about it."""

    pipeline: Any
    path: Path
    version: str = "unknown"
    threshold: float | None = None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as err:
        raise DriftError(f"{path} is not valid JSON: {err}") from err
    return data if isinstance(data, dict) else {}


def load_trained_model(model_dir: Path) -> TrainedModel | None:
    """Load models/current/model.joblib if it exists, else None.

    Raises:
        DriftError: the file exists but cannot be loaded.
    """
    path = model_dir / MODEL_FILE
    if not path.is_file():
        return None
    import joblib

    try:
        pipeline = joblib.load(path)
    except Exception as err:  # unpickling raises anything the pickled classes raise
        raise DriftError(f"cannot load the model {path}: {err}") from err
    metadata = _read_json(model_dir / METADATA_FILE)
    version = next((str(metadata[k]) for k in _VERSION_KEYS if metadata.get(k) is not None), None)
    threshold = metadata.get("threshold")
    return TrainedModel(
        pipeline=pipeline,
        path=path,
        version=version or "unknown",
        threshold=float(threshold) if isinstance(threshold, int | float) else None,
    )


def model_input(features: pd.DataFrame, contract: DataContract, columns: list[str]) -> pd.DataFrame:
    """Rebuild what training fed the model from the comparable feature view.

    Missing numbers get the contract's fill value (as training does) and integer
    categories become integers again. Columns the model saw in training but the
    data lacks (an id column, say) are given empty values: a pipeline that
    drops them never reads them.
    """
    frame = pd.DataFrame(index=features.index)
    for name in columns:
        if name in contract.numeric:
            fill = contract.numeric[name].fill_missing
            values = features[name]
            frame[name] = values if fill is None else values.fillna(fill)
        elif name in contract.categorical:
            values = features[name]
            if contract.categorical[name].dtype == "int":
                numbers = pd.to_numeric(values, errors="coerce")
                frame[name] = numbers.astype("int64") if numbers.notna().all() else numbers
            else:
                frame[name] = values.astype(object)
        else:
            frame[name] = ""
    return frame


def positive_column(classes: Any, positive: str) -> int:
    """Index of the positive class among the model's classes (label text, 1 or True)."""
    labels = [str(c) for c in list(classes)]
    for wanted in (positive, "1", "True"):
        if wanted in labels:
            return labels.index(wanted)
    return len(labels) - 1


def score(
    model: TrainedModel, features: pd.DataFrame, contract: DataContract
) -> NDArray[np.float64]:
    """Probability of the positive class for each row.

    Raises:
        DriftError: the model refuses the data (the message says why).
    """
    pipeline = model.pipeline
    names = getattr(pipeline, "feature_names_in_", None)
    columns = [str(c) for c in names] if names is not None else contract.feature_columns
    try:
        probabilities = pipeline.predict_proba(model_input(features, contract, columns))
    except Exception as err:  # a pipeline raises whatever its steps raise
        raise DriftError(f"the model {model.path} could not score the data: {err}") from err
    column = positive_column(getattr(pipeline, "classes_", [0, 1]), contract.target.positive)
    return np.asarray(probabilities, dtype=np.float64)[:, column]
