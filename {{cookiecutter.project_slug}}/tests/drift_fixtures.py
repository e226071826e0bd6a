"""A small fitted model, samples and a scratch project for the drift tests.

Training the real model is another command's job; these tests only need a
fitted scikit-learn pipeline shaped like it (predict_proba on the contract's
feature columns), trained once per session in about a second.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from {{ cookiecutter.package_name }}.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.io.datasets import read_raw, to_typed
from {{ cookiecutter.package_name }}.monitoring.frames import Sample, categorical_view, feature_view
from {{ cookiecutter.package_name }}.monitoring.model import TrainedModel, score

PROJECT_DIR = Path(__file__).resolve().parents[1]
CONTRACT_PATH = PROJECT_DIR / "config" / "data_contract.yaml"
SAMPLE_PATH = PROJECT_DIR / "data" / "raw" / "telco_customer_churn.csv"


@functools.cache
def contract() -> DataContract:
    return load_contract(CONTRACT_PATH)


@functools.cache
def raw_sample() -> pd.DataFrame:
    return read_raw(SAMPLE_PATH)


@functools.cache
def trained() -> tuple[Pipeline, dict[str, Any]]:
    """A logistic regression on the whole sample and its metrics document."""
    spec = contract()
    typed = to_typed(raw_sample(), spec)
    pipeline = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("numeric", StandardScaler(), list(spec.numeric)),
                        (
                            "categorical",
                            OneHotEncoder(handle_unknown="ignore"),
                            list(spec.categorical),
                        ),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=1000)),
        ]
    )
    labels = typed[spec.target.column]
    pipeline.fit(typed[spec.feature_columns], labels)
    scores = pipeline.predict_proba(typed[spec.feature_columns])[:, 1]
    positive = (labels == spec.target.positive).to_numpy()
    metrics = {
        "model": {"estimator": "LogisticRegression", "threshold": 0.5},
        "metrics": {
            "roc_auc": roc_auc_score(positive, scores),
            "recall": recall_score(positive, scores >= 0.5),
            "precision": precision_score(positive, scores >= 0.5),
        },
    }
    return pipeline, metrics


def reference_sample() -> Sample:
    raw = raw_sample()
    spec = contract()
    return Sample(
        features=feature_view(raw, spec),
        labels=categorical_view(raw[spec.target.column]),
        description="sample",
    )


def install_model(project: Path, version: str = "7") -> None:
    """models/current and metrics/metrics.json as training leaves them."""
    pipeline, metrics = trained()
    model_dir = project / "models" / "current"
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, model_dir / "model.joblib")
    (model_dir / "metadata.json").write_text(json.dumps({"version": version, "threshold": 0.5}))
    (project / "metrics").mkdir(exist_ok=True)
    (project / "metrics" / "metrics.json").write_text(json.dumps(metrics))


def scratch_project(tmp_path: Path) -> Path:
    """A project folder with the real config and sample data, nothing trained."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / "config", project / "config")
    (project / "data" / "raw").mkdir(parents=True)
    shutil.copyfile(SAMPLE_PATH, project / "data" / "raw" / SAMPLE_PATH.name)
    return project


def positive_scores(features: pd.DataFrame) -> np.ndarray:
    """The fixture model's scores for a feature view (as drift computes them)."""
    pipeline, _ = trained()
    return score(TrainedModel(pipeline, Path("fixture")), features, contract())
