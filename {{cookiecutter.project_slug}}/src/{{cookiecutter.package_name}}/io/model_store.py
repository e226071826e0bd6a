"""The current model on disk: `models/current/` holds the fitted pipeline and its metadata.

A new model is written to a staging folder and swapped in only when training
succeeded end to end, so `models/current/` never holds a model without its
metadata or a half-written file. joblib is used because the pipeline is our own
artefact, loaded only by this project's code; MLflow keeps its own skops copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


class ModelNotFoundError(FileNotFoundError):
    """No trained model where one is expected; the message says how to make one."""


class StaleModelError(ValueError):
    """The saved model was trained under another data contract than the current one."""


def check_contract(metadata: dict[str, Any], contract_fingerprint: str) -> None:
    """Refuse to judge or serve a model with a contract it was not trained for.

    Raises:
        StaleModelError: the contract changed since training.
    """
    trained_with = metadata.get("contract_fingerprint")
    if trained_with != contract_fingerprint:
        raise StaleModelError(
            f"the model in models/current was trained with data contract {trained_with}, "
            f"the current contract is {contract_fingerprint}: run `make train` first"
        )


def current_dir(models_dir: Path) -> Path:
    """Folder of the model that evaluate, the model tests and serving use."""
    return models_dir / "current"


def staging_dir(models_dir: Path) -> Path:
    """Folder a training run writes into before it is promoted to current."""
    return models_dir / ".staging"


def save_pipeline(pipeline: Any, directory: Path) -> Path:
    """Write the fitted pipeline into an empty `directory` and return the file written."""
    import joblib

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    path = directory / MODEL_FILE
    joblib.dump(pipeline, path)
    return path


def write_metadata(directory: Path, metadata: dict[str, Any]) -> Path:
    """Write `metadata.json` (sorted keys, so diffs between models stay readable)."""
    path = directory / METADATA_FILE
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def promote(staging: Path, current: Path) -> None:
    """Replace the current model with the staged one."""
    if current.exists():
        shutil.rmtree(current)
    staging.rename(current)


def load_current(models_dir: Path) -> tuple[Any, dict[str, Any]]:
    """The current pipeline and its metadata.

    Raises:
        ModelNotFoundError: nothing has been trained yet (or the folder is incomplete).
    """
    import joblib

    directory = current_dir(models_dir)
    model_path, metadata_path = directory / MODEL_FILE, directory / METADATA_FILE
    if not (model_path.is_file() and metadata_path.is_file()):
        raise ModelNotFoundError(f"no trained model in {directory}: run `make train` first")
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    return joblib.load(model_path), metadata
