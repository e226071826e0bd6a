"""The ONNX export serves any column names a contract can hold, not only identifiers.

skl2onnx renames inputs it cannot use as identifiers ('mean radius' -> 'mean_radius');
the export names them after the contract's columns again, so the service feeds them
by name. Without it, a data set with a space in a column name got no ONNX model and
its service fell back to the pipeline (a warning at training, ~50x slower serving).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.serving.predictor import OnnxPredictor
from {{ cookiecutter.package_name }}.train.features import build_pipeline
from {{ cookiecutter.package_name }}.train.onnx_export import export_onnx

# Spaces, punctuation, a leading digit, non-ASCII, and pairs that sanitize to one name.
NUMERIC = ["mean radius", "a-b", "a_b", "a b", "1st visit", "größe", "Charges (USD)"]
CATEGORICAL = {"plan type": ["basic", "premium"], "plan_type": ["x", "y"]}


def _contract(numeric: list[str], categorical: dict[str, list[str]]) -> DataContract:
    return DataContract.model_validate(
        {
            "name": "awkward names",
            "version": 1,
            "target": {"column": "outcome", "positive": "yes", "negative": "no"},
            "numeric": {name: {"dtype": "float"} for name in numeric},
            "categorical": {name: {"values": values} for name, values in categorical.items()},
        }
    )


def _fitted(contract: DataContract, rows: int = 200) -> tuple[Any, pd.DataFrame]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({name: rng.normal(size=rows) for name in contract.numeric})
    for name, spec in contract.categorical.items():
        frame[name] = rng.choice(list(spec.values), size=rows)
    labels = (frame[next(iter(contract.numeric))] + rng.normal(size=rows) > 0).astype(int)
    pipeline = build_pipeline(contract, LogisticRegression(max_iter=1000))
    pipeline.fit(frame[contract.feature_columns], labels)
    return pipeline, frame


@pytest.mark.parametrize(
    ("numeric", "categorical"),
    [(NUMERIC, CATEGORICAL), (NUMERIC, {})],
    ids=["numeric-and-categorical", "numeric-only"],
)
def test_columns_with_any_name_are_exported_and_served_by_name(
    tmp_path: Path, numeric: list[str], categorical: dict[str, list[str]]
) -> None:
    contract = _contract(numeric, categorical)
    pipeline, frame = _fitted(contract)
    result = export_onnx(pipeline, contract, frame, tmp_path / "model.onnx")
    assert result.exported, result.reason
    predictor = OnnxPredictor(tmp_path / "model.onnx", contract)
    inputs = [i.name for i in predictor._session.get_inputs()]
    assert inputs == [*contract.numeric, *contract.categorical]
    rows = frame[contract.feature_columns].head(20).to_dict("records")
    expected = pipeline.predict_proba(frame[contract.feature_columns].head(20))[:, 1]
    assert np.allclose(predictor.predict(rows), expected, atol=1e-5)
    assert np.allclose(predictor.predict(rows[:1]), expected[:1], atol=1e-5)


def test_a_column_named_like_a_tensor_of_the_model_falls_back_to_the_pipeline(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A name the converted graph already uses cannot be an input: no model, a clear reason."""
    contract = _contract(["tenure", "probabilities"], {})
    pipeline, frame = _fitted(contract)
    result = export_onnx(pipeline, contract, frame, tmp_path / "model.onnx")
    assert not result.exported
    assert "probabilities" in result.reason
    assert not (tmp_path / "model.onnx").exists()
    assert "the service will use the pipeline" in caplog.text
