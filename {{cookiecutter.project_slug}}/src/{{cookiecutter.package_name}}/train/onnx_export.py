"""Export the fitted pipeline to ONNX at training time, and prove it predicts the same.

The service then scores without pandas or scikit-learn. A model the converter
does not support is not an error: training keeps the joblib pipeline, warns,
and the service falls back to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..contract.model import DataContract

logger = logging.getLogger(__name__)

PARITY_TOLERANCE = 1e-5
TARGET_OPSET = 17


@dataclass(frozen=True)
class ExportResult:
    """Where the model went and how closely it matches the pipeline."""

    path: Path | None
    max_abs_diff: float | None
    reason: str = ""

    @property
    def exported(self) -> bool:
        """True when model.onnx was written and passed the parity check."""
        return self.path is not None


def initial_types(contract: DataContract) -> list[tuple[str, Any]]:
    """One named [n, 1] input per contract column, typed like the service feeds it."""
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    inputs: list[tuple[str, Any]] = [(c, FloatTensorType([None, 1])) for c in contract.numeric]
    for column, cat in contract.categorical.items():
        tensor = Int64TensorType([None, 1]) if cat.dtype == "int" else StringTensorType([None, 1])
        inputs.append((column, tensor))
    return inputs


def restore_input_names(model: Any, columns: list[str]) -> None:
    """Name the converted model's inputs after the contract's columns again, in place.

    skl2onnx turns input names into identifiers ('mean radius' becomes 'mean_radius',
    a clash gets a number), while the service, batch scoring and the parity check
    feed each input by its column's name: a data set with a space in a column name
    would otherwise never get its ONNX model. The inputs keep the order of
    `initial_types`, so the i-th input is the i-th column.

    Raises:
        ValueError: the model's inputs are not one per column, or a column's name is
            already the name of another tensor in the model (such a model is not
            exported: the service uses the pipeline, with a warning).
    """
    graph = model.graph
    if len(graph.input) != len(columns):
        raise ValueError(f"the model has {len(graph.input)} inputs for {len(columns)} columns")
    renamed = {tensor.name: column for tensor, column in zip(graph.input, columns, strict=True)}
    taken = {name for node in graph.node for name in node.output}
    taken |= {tensor.name for tensor in graph.initializer}
    if clashes := sorted(taken & set(columns)):
        raise ValueError(f"column name(s) {clashes} are names of tensors inside the model")
    for tensor in graph.input:
        tensor.name = renamed[tensor.name]
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name in renamed:
                node.input[index] = renamed[name]


def frame_feed(contract: DataContract, frame: Any) -> dict[str, np.ndarray]:
    """The same inputs as the service builds, from a typed DataFrame."""
    feed = {c: frame[c].to_numpy(np.float32).reshape(-1, 1) for c in contract.numeric}
    for column, cat in contract.categorical.items():
        dtype = np.int64 if cat.dtype == "int" else object
        feed[column] = frame[column].to_numpy(dtype).reshape(-1, 1)
    return feed


def onnx_probabilities(model_bytes: bytes, feed: dict[str, np.ndarray]) -> np.ndarray:
    """Positive-class probabilities from an in-memory ONNX model."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], feed)
    return np.asarray(probabilities)[:, 1]


def export_onnx(
    pipeline: Any, contract: DataContract, check_frame: Any, path: Path
) -> ExportResult:
    """Convert, verify parity on `check_frame` (max |Δp| ≤ 1e-5), then write `path`."""
    try:
        from skl2onnx import convert_sklearn

        classifier = pipeline.steps[-1][1]
        inputs = initial_types(contract)
        model = convert_sklearn(
            pipeline,
            initial_types=inputs,
            options={id(classifier): {"zipmap": False}},
            target_opset=TARGET_OPSET,
        )
        restore_input_names(model, [name for name, _ in inputs])
        model_bytes = model.SerializeToString()
        expected = pipeline.predict_proba(check_frame[contract.feature_columns])[:, 1]
        got = onnx_probabilities(model_bytes, frame_feed(contract, check_frame))
    except Exception as err:  # any converter gap means "serve the pipeline instead"
        reason = f"{type(err).__name__}: {err}"
        logger.warning("ONNX export failed, the service will use the pipeline: %s", reason)
        return ExportResult(None, None, reason)
    max_diff = float(np.max(np.abs(got - expected))) if len(expected) else 0.0
    if max_diff > PARITY_TOLERANCE:
        reason = f"ONNX probabilities differ from the pipeline by up to {max_diff:.2e}"
        logger.warning("%s; the service will use the pipeline", reason)
        return ExportResult(None, max_diff, reason)
    path.write_bytes(model_bytes)
    return ExportResult(path, max_diff)
