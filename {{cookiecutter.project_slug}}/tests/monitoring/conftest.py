"""A small fitted model, samples and a scratch project for the drift tests.

Training the real model is another command's job; these tests only need a
fitted scikit-learn pipeline shaped like it (predict_proba on the contract's
feature columns), trained once per session in about a second.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.contract.datasets import read_as_text, to_typed
from {{ cookiecutter.package_name }}.contract.model import training_data_path
from {{ cookiecutter.package_name }}.layout import (
    METRICS_FILE,
    PIPELINE_FILE,
    MetricsRecord,
    ModelFacts,
)
from {{ cookiecutter.package_name }}.monitoring.config import (
    DriftConfig,
    load_drift_config,
)
from {{ cookiecutter.package_name }}.monitoring.frames import (
    Sample,
    categorical_view,
    feature_view,
)
from {{ cookiecutter.package_name }}.monitoring.model import TrainedModel, score
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.train import training
from {{ cookiecutter.package_name }}.train.features import build_pipeline

from ..conftest import PROJECT_DIR, SAMPLE, contract, model_metadata, roles

__all__ = ["PROJECT_DIR", "contract", "roles"]


@functools.cache
def drift_config() -> DriftConfig:
    """The project's config/drift.yaml, checked against its contract."""
    config = load_drift_config(Settings(project_dir=PROJECT_DIR).drift_config_path)
    config.check_against(contract())
    return config


def shifted_columns() -> set[str]:
    """The columns the configured drift simulation shifts (simulation.data_drift)."""
    return set(drift_config().simulation.data_drift)


@functools.cache
def raw_sample() -> pd.DataFrame:
    """The configured data as the service's log and a CSV hold it: every value as text."""
    return read_as_text(SAMPLE)


@functools.cache
def trained() -> tuple[Pipeline, MetricsRecord]:
    """A logistic regression on the whole sample and its metrics document."""
    spec = contract()
    typed = to_typed(raw_sample(), spec)
    pipeline = build_pipeline(spec, LogisticRegression(max_iter=1000))
    positive = training.binary_labels(typed, spec).to_numpy()  # 1 = positive, as train fits
    pipeline.fit(typed[spec.feature_columns], positive)
    scores = pipeline.predict_proba(typed[spec.feature_columns])[:, 1]
    metrics = MetricsRecord(
        model=ModelFacts(estimator="LogisticRegression", threshold=0.5),
        metrics={
            "roc_auc": float(roc_auc_score(positive, scores)),
            "recall": float(recall_score(positive, scores >= 0.5)),
            "precision": float(precision_score(positive, scores >= 0.5)),
        },
    )
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
    """models/current and metrics/metrics.json as training leaves them (through layout)."""
    pipeline, metrics = trained()
    settings = Settings(project_dir=project)
    model_dir = settings.current_model_dir
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, model_dir / PIPELINE_FILE)
    model_metadata(contract(), version=version).write(model_dir)
    settings.metrics_dir.mkdir(parents=True, exist_ok=True)
    (settings.metrics_dir / METRICS_FILE).write_text(metrics.model_dump_json())


def scratch_project(tmp_path: Path) -> Path:
    """A project folder with the real config and sample data, nothing trained."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / "config", project / "config")
    target = training_data_path(Settings(project_dir=project), contract())
    if target != SAMPLE:  # MLOPS_DATA_PATH set: the project reads the data where it is
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE, target)
    return project


def positive_scores(features: pd.DataFrame) -> np.ndarray:
    """The fixture model's scores for a feature view (as drift computes them)."""
    pipeline, _ = trained()
    return score(TrainedModel(pipeline, Path("fixture"), version="fixture"), features, contract())
