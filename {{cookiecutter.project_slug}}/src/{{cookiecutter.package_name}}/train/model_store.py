"""The current model on disk: `models/current/` holds the fitted pipeline and its metadata.

A new model is written to a staging folder and swapped in only when training
succeeded end to end, so `models/current/` never holds a model without its
metadata or a half-written file. joblib is used because the pipeline is our own
artefact, loaded only by this project's code; MLflow keeps its own skops copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..errors import ModelNotFoundError, StaleModelError
from ..layout import (
    CURRENT_MODEL_DIR,
    METADATA_FILE,
    PIPELINE_FILE,
    STAGING_MODEL_DIR,
    ModelMetadata,
)


def check_contract(metadata: ModelMetadata, contract_fingerprint: str) -> None:
    """Refuse to judge or serve a model with a contract it was not trained for.

    Raises:
        StaleModelError: the contract changed since training.
    """
    trained_with = metadata.contract_fingerprint
    if trained_with != contract_fingerprint:
        raise StaleModelError(
            f"the model in models/current was trained with data contract {trained_with}, "
            f"the current contract is {contract_fingerprint}: run `make train` first"
        )


def current_dir(models_dir: Path) -> Path:
    """Folder of the model that evaluate, the model tests and serving use."""
    return models_dir / CURRENT_MODEL_DIR


def staging_dir(models_dir: Path) -> Path:
    """Folder a training run writes into before it is promoted to current."""
    return models_dir / STAGING_MODEL_DIR


def save_pipeline(pipeline: Any, directory: Path) -> Path:
    """Write the fitted pipeline into an empty `directory` and return the file written."""
    import joblib

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    path = directory / PIPELINE_FILE
    joblib.dump(pipeline, path)
    return path


def promote(staging: Path, current: Path) -> None:
    """Replace the current model with the staged one."""
    if current.exists():
        shutil.rmtree(current)
    staging.rename(current)


def load_metadata(directory: Path) -> ModelMetadata:
    """The metadata of the model in `directory`.

    Raises:
        ModelNotFoundError: there is none, or it cannot be read.
    """
    if not (directory / METADATA_FILE).is_file():
        raise ModelNotFoundError(f"no trained model in {directory}: run `make train` first")
    try:
        return ModelMetadata.read(directory)
    except ValueError as err:
        raise ModelNotFoundError(f"{directory / METADATA_FILE} is unreadable: {err}") from err


def load_model(directory: Path) -> tuple[Any, ModelMetadata]:
    """The pipeline in `directory` and its metadata.

    Raises:
        ModelNotFoundError: nothing has been trained there (or the folder is incomplete).
    """
    import joblib

    metadata = load_metadata(directory)
    if not (directory / PIPELINE_FILE).is_file():
        raise ModelNotFoundError(f"no {PIPELINE_FILE} in {directory}: run `make train` first")
    return joblib.load(directory / PIPELINE_FILE), metadata


def load_current(models_dir: Path) -> tuple[Any, ModelMetadata]:
    """The current pipeline and its metadata (see `load_model`)."""
    return load_model(current_dir(models_dir))
