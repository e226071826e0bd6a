"""Build the configured classifier from its dotted import path.

Naming the class in YAML (instead of a fixed list in code) lets a project swap
models by editing `config/model.yaml`; the checks below turn the usual mistakes
into one clear message before any training starts.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import TrainingConfigError
from .config import EstimatorSpec


class ProbabilisticClassifier(Protocol):
    """What the rest of the code needs from a fitted model."""

    def predict_proba(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:  # noqa: N803
        """Class probabilities, one column per class in label order (negative, positive)."""


def _resolve(name: str) -> type[Any]:
    module_name, _, attribute = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TrainingConfigError(
            f"estimator.name {name!r}: cannot import module {module_name!r} ({err})"
        ) from err
    found = getattr(module, attribute, None)
    if not inspect.isclass(found):
        raise TrainingConfigError(
            f"estimator.name {name!r}: {module_name!r} has no class named {attribute!r}"
        )
    return found


def build_estimator(spec: EstimatorSpec, seed: int) -> Any:
    """Instantiate the classifier; its `random_state` defaults to the configured seed.

    Raises:
        TrainingConfigError: the class cannot be found, is not a probabilistic
            classifier, or refuses one of the parameters.
    """
    cls = _resolve(spec.name)
    if not (hasattr(cls, "fit") and hasattr(cls, "predict_proba")):
        raise TrainingConfigError(
            f"estimator.name {spec.name!r} is not a classifier with fit and predict_proba"
        )
    params: dict[str, Any] = dict(spec.params)
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise TrainingConfigError(
            f"estimator {spec.short_name} does not accept parameter(s) {unknown}; "
            f"accepted: {sorted(accepted)}"
        )
    if "random_state" in accepted and params.get("random_state") is None:
        params["random_state"] = seed
    return cls(**params)
