"""The trained model, as far as drift checks need it: scores, threshold and version.

Reference scores come from running the current model (models/current) on the
training data; a current file without a `score` column is scored the same way.
The model is optional: without one, the score and concept checks are skipped
with a note, and joblib (with scikit-learn behind it) is only imported when a
model file exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..contract.model import DataContract
from ..errors import DriftError, ModelNotFoundError
from ..layout import PIPELINE_FILE
from ..train.model_store import load_model


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline with what its metadata says about it."""

    pipeline: Any
    path: Path
    version: str
    threshold: float | None = None


def load_trained_model(model_dir: Path) -> TrainedModel | None:
    """Load the pipeline of `model_dir` (models/current) if there is one, else None.

    Raises:
        DriftError: the model exists but cannot be loaded.
    """
    if not (model_dir / PIPELINE_FILE).is_file():
        return None
    try:
        pipeline, metadata = load_model(model_dir)
    except ModelNotFoundError as err:
        raise DriftError(str(err)) from err
    except Exception as err:  # unpickling raises anything the pickled classes raise
        raise DriftError(f"cannot load the model {model_dir / PIPELINE_FILE}: {err}") from err
    return TrainedModel(
        pipeline=pipeline,
        path=model_dir / PIPELINE_FILE,
        version=metadata.model_version,
        threshold=metadata.threshold,
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
