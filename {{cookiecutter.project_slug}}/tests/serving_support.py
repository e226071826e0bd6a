"""A small real model for the serving tests: fitted on the sample, exported like `train` does."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.package_name }}.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.core import training
from {{ cookiecutter.package_name }}.core.features import build_pipeline
from {{ cookiecutter.package_name }}.io.datasets import read_raw, to_typed
from {{ cookiecutter.package_name }}.io.onnx_export import ONNX_FILE, export_onnx

PROJECT_DIR = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT_DIR / "data" / "raw" / "telco_customer_churn.csv"


def contract() -> DataContract:
    return load_contract(PROJECT_DIR / "config" / "data_contract.yaml")


def build_model_dir(target: Path, *, onnx: bool = True, rows: int = 3000) -> Path:
    """Fit a logistic regression on the first rows and write model.joblib, model.onnx, metadata."""
    spec = contract()
    frame = to_typed(read_raw(SAMPLE), spec).head(rows)
    features = training.feature_frame(frame, spec)
    pipeline = build_pipeline(spec, LogisticRegression(max_iter=1000))
    pipeline.fit(features, training.binary_labels(frame, spec))
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, target / "model.joblib")
    if onnx:
        result = export_onnx(pipeline, spec, features, target / ONNX_FILE)
        assert result.exported, result.reason
    metadata = {
        "threshold": 0.5,
        "contract_fingerprint": spec.fingerprint(),
        "mlflow": {"version": "7", "run_id": "test-run"},
    }
    (target / "metadata.json").write_text(json.dumps(metadata))
    return target
