"""MLflow: one run per training, the model logged with its signature, then registered.

The default store is a SQLite file in the project (`mlflow.db`) with artifacts in
`mlartifacts/`, so tracking works offline with no server; `MLFLOW_TRACKING_URI`
points everything at a server instead. Pip requirements are passed explicitly
(pinned from the installed versions): MLflow would otherwise re-import the model
in a subprocess to infer them, which costs about 8 s per training.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import math
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from ..errors import TrackingError
from ..layout import CHALLENGER_ALIAS, CHAMPION_ALIAS, TrackedModel
from ..settings import Settings
from .store_seed import seed_local_store

# What loading the logged model needs: the flavour, its serialisation format and the
# libraries the pipeline's objects come from.
MODEL_REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "scipy")
_KEY_UNSAFE = re.compile(r"[^\w\-. /:]")
# MLflow loggers that only report what explicit pip requirements make irrelevant
# (uv project detection, pip's version in conda.yaml).
_QUIET_LOGGERS = ("mlflow.utils.environment", "mlflow.utils.uv_utils")


def _mlflow() -> ModuleType:
    """Import MLflow with telemetry off; nothing at run time may need the network."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow.sklearn  # noqa: F401  # MLflow with its scikit-learn flavour

    return importlib.import_module("mlflow")


@contextmanager
def _quiet_environment_logs() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def pinned_requirements(names: tuple[str, ...] = MODEL_REQUIREMENTS) -> list[str]:
    """`name==version` for each installed distribution among `names`."""
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins


def skops_trusted_types(pipeline: Any) -> list[str]:
    """Types skops would refuse when loading this pipeline (e.g. `numpy.dtype`).

    MLflow saves scikit-learn models with skops, which loads only allow-listed
    types. Every object in the pipeline was built by this project's training,
    so the types it contains are trusted and recorded in the model's MLmodel.
    """
    import skops.io

    return sorted(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)))


def metric_key(*parts: str) -> str:
    """A metric name MLflow accepts, from parts that may hold any character."""
    return ".".join(_KEY_UNSAFE.sub("_", part) for part in parts)


def _experiment_id(mlflow: ModuleType, settings: Settings) -> str:
    existing = mlflow.get_experiment_by_name(settings.experiment_name)
    if existing is not None:
        return str(existing.experiment_id)
    location = None
    if not settings.tracking_uri:  # local store: artifacts beside mlflow.db
        location = (settings.project_dir / "mlartifacts").resolve().as_uri()
    return str(mlflow.create_experiment(settings.experiment_name, artifact_location=location))


def log_training(
    settings: Settings,
    *,
    pipeline: Any,
    input_example: pd.DataFrame,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    artifacts: dict[str, list[Path]],
    model_metadata: dict[str, Any],
) -> TrackedModel:
    """Log one training run, register the model and point the `challenger` alias at it.

    Args:
        settings: where the store is and which experiment/registered model to use.
        pipeline: the fitted scikit-learn pipeline.
        input_example: a few rows of model input; also used to infer the signature.
        params: run parameters (configuration, data sizes, fingerprints).
        metrics: flat metric names to values (non-finite values are skipped).
        tags: run tags.
        artifacts: artifact folder -> files to log there (plots, configs, metrics file).
        model_metadata: stored in the logged model's MLmodel file (threshold, fingerprints).
    """
    mlflow = _mlflow()
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    uri = settings.mlflow_tracking_uri
    if not settings.tracking_uri:  # a new local store starts from a migrated empty one
        seed_local_store(settings.local_store_path)
    mlflow.set_tracking_uri(uri)
    experiment_id = _experiment_id(mlflow, settings)
    with warnings.catch_warnings():
        # The contract, not this example, decides nullability; the hint about
        # integer columns and missing values would only be noise here.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(input_example, pipeline.predict(input_example))
    with _quiet_environment_logs(), mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(params)
        mlflow.set_tags(tags)
        for folder, files in artifacts.items():
            for path in files:
                mlflow.log_artifact(str(path), artifact_path=folder)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=signature,
            input_example=input_example,
            pip_requirements=pinned_requirements(),
            registered_model_name=settings.registered_model_name,
            metadata=model_metadata,
            skops_trusted_types=skops_trusted_types(pipeline),
        )
        # After the model, linked to it: logged before it, MLflow would copy each metric
        # to the model with one request per metric (a minute against a tracking server).
        mlflow.log_metrics(
            {k: v for k, v in metrics.items() if math.isfinite(v)}, model_id=info.model_id
        )
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(
        settings.registered_model_name, CHALLENGER_ALIAS, version
    )
    return TrackedModel(
        tracking_uri=uri,
        experiment_id=experiment_id,
        run_id=run.info.run_id,
        model_uri=info.model_uri,
        registered_model_name=settings.registered_model_name,
        version=version,
        alias=CHALLENGER_ALIAS,
    )


def promote(settings: Settings, version: str) -> str:
    """Point the `champion` alias at `version`: the model production now serves.

    Called after a release went live, so the registry's champion (the baseline
    of the next pull request when a tracking server is used) is what runs.
    """
    mlflow = _mlflow()
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    try:
        mlflow.MlflowClient().set_registered_model_alias(
            name=settings.registered_model_name, alias=CHAMPION_ALIAS, version=version
        )
    except MlflowException as err:
        raise TrackingError(
            f"cannot make version {version} of {settings.registered_model_name} the "
            f"{CHAMPION_ALIAS} in {settings.mlflow_tracking_uri}: {err.message}"
        ) from err
    return f"{settings.registered_model_name}@{CHAMPION_ALIAS} -> version {version}"


def log_run_artifacts(tracking_uri: str, run_id: str, files: list[Path], folder: str) -> None:
    """Attach files to an existing run (e.g. the model card to its training run)."""
    mlflow = _mlflow()
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    try:
        for path in files:
            client.log_artifact(run_id, str(path), artifact_path=folder)
    except MlflowException as err:
        raise TrackingError(
            f"cannot log {folder}/ to run {run_id} in {redact(tracking_uri)}: {err.message}"
        ) from err


def redact(uri: str) -> str:
    """A tracking URI fit to print: any user:password@ is dropped."""
    return re.sub(r"//[^/@]*@", "//", uri)
