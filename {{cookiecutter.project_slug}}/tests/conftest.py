"""Shared by every unit test: the project, its configured data, and a small real model.

Tests find the data through the project's settings (the configured data file),
never by the sample's name, and write model folders through `layout`, the
format training itself writes.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import joblib
import pytest
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.package_name }}.contract.datasets import read_as_text, read_raw, to_typed
from {{ cookiecutter.package_name }}.contract.model import (
    PARQUET_SUFFIXES,
    DataContract,
    load_contract,
    training_data_path,
)
from {{ cookiecutter.package_name }}.layout import (
    ONNX_FILE,
    PIPELINE_FILE,
    ModelMetadata,
    OnnxExport,
    TrackedModel,
)
from {{ cookiecutter.package_name }}.probes import free_port
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.train import training
from {{ cookiecutter.package_name }}.train.features import build_pipeline
from {{ cookiecutter.package_name }}.train.onnx_export import export_onnx

PROJECT_DIR = Path(__file__).resolve().parents[1]
SETTINGS = Settings(project_dir=PROJECT_DIR)
MODEL_VERSION = "7"


@functools.cache
def contract() -> DataContract:
    """The project's data contract."""
    return load_contract(SETTINGS.contract_path)


# The configured training data (the contract's data_file, or MLOPS_DATA_PATH).
SAMPLE = training_data_path(SETTINGS, contract())


@dataclass(frozen=True)
class Roles:
    """Columns of the project's contract by the part they play.

    Tests of the project's own data name these, never the shipped sample's
    columns, so they hold for whatever data `config/` describes.
    """

    numeric: str  # a numeric feature with an upper bound (a non-nullable one if any)
    # a categorical feature with at least two values (text ones first); None when the
    # contract has none (all-numeric data): tests of categories then do not apply
    categorical: str | None
    target: str
    positive: str
    negative: str
    id: str | None


@functools.cache
def roles() -> Roles:
    """The project contract's columns by role."""
    spec = contract()
    numeric = sorted(
        (name for name, column in spec.numeric.items() if column.max is not None),
        key=lambda name: spec.numeric[name].nullable,
    )
    categorical = sorted(
        (name for name, column in spec.categorical.items() if len(column.values) > 1),
        key=lambda name: (spec.categorical[name].nullable, spec.categorical[name].dtype != "str"),
    )
    assert numeric, "the project's tests need a numeric feature with a max in the contract"
    return Roles(
        numeric=numeric[0],
        categorical=categorical[0] if categorical else None,
        target=spec.target.column,
        positive=spec.target.positive,
        negative=spec.target.negative,
        id=spec.id_column,
    )


def a_categorical() -> str:
    """The contract's categorical feature (`Roles.categorical`); the test is skipped without one.

    Only tests of what is particular to categories (an unseen one, its values in a
    report) call this; the others pick a column by what the contract has.
    """
    column = roles().categorical
    if column is None:
        pytest.skip("the contract has no categorical feature with two values or more")
    return column


def model_metadata(
    spec: DataContract, *, version: str = MODEL_VERSION, **changes: object
) -> ModelMetadata:
    """Metadata as `train` writes it, for a model registered as `version`."""
    metadata = ModelMetadata(
        threshold=0.5,
        contract_fingerprint=spec.fingerprint(),
        contract_version=spec.version,
        positive_label=spec.target.positive,
        labels=spec.target.labels,
        feature_columns=tuple(spec.feature_columns),
        id_column=spec.id_column,
        target_column=spec.target.column,
        mlflow=TrackedModel(version=version, run_id="test-run", alias="challenger"),
    )
    return metadata.model_copy(update=changes)


def build_model_dir(
    target: Path, *, onnx: bool = True, rows: int = 3000, version: str = MODEL_VERSION
) -> Path:
    """Fit a logistic regression on the first rows; write the model files as `train` does."""
    spec = contract()
    frame = to_typed(read_raw(SAMPLE), spec).head(rows)
    features = training.feature_frame(frame, spec)
    pipeline = build_pipeline(spec, LogisticRegression(max_iter=1000))
    pipeline.fit(features, training.binary_labels(frame, spec))
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, target / PIPELINE_FILE)
    exported = OnnxExport()
    if onnx:
        result = export_onnx(pipeline, spec, features, target / ONNX_FILE)
        assert result.exported, result.reason
        exported = OnnxExport(exported=True, max_abs_diff=result.max_abs_diff)
    model_metadata(spec, version=version, onnx=exported).write(target)
    return target


def scratch_settings(folder: Path) -> Settings:
    """A copy of the project's config and configured data: a project the CLI can run in."""
    if not (folder / "config").exists():
        shutil.copytree(PROJECT_DIR / "config", folder / "config")
    inside = SAMPLE.is_relative_to(PROJECT_DIR)
    data = folder / (SAMPLE.relative_to(PROJECT_DIR) if inside else Path("data") / SAMPLE.name)
    data.parent.mkdir(parents=True, exist_ok=True)
    if not data.exists():
        shutil.copyfile(SAMPLE, data)
    return Settings(project_dir=folder, data_path=data, tracking_uri=None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests reading `trained_project` share one worker, so it trains once (pytest-xdist)."""
    for item in items:
        if "trained_project" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("trained_project"))


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, ModelMetadata]:
    """One real `train` into a scratch project (local MLflow store), shared by the tests
    that only read what training leaves: the files, the registry, drift's model version."""
    from {{ cookiecutter.package_name }}.train.steps import run_train

    settings = scratch_settings(tmp_path_factory.mktemp("trained"))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        metadata = run_train(settings)
    return settings, metadata


def system_tool(name: str) -> str:
    """The path of a system program an integration test runs; fails naming how to install it.

    Integration tests need real programs (nginx, prometheus); a missing one is a
    failure that says what to do, never a silent skip.
    """
    found = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    if found is None:
        hint = subprocess.run(
            ["bash", str(PROJECT_DIR / "tools" / "system-deps.sh"), "--hint", name],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        pytest.fail(f"{name} is not installed: `make system-deps` installs it ({hint})")
    return found


@pytest.fixture(scope="session", autouse=True)
def prediction_log_outside_the_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Services the tests start (and their deploys) log to a scratch folder.

    The project's own logs/predictions is what `make drift` reads after `make all`:
    test traffic (fuzzing, faults) must never land there.
    """
    folder = tmp_path_factory.mktemp("prediction-log")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_PREDICTION_LOG_DIR", str(folder))
        yield folder


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto in server mode on 127.0.0.1, one per test module: AWS APIs over real HTTP."""
    from moto.server import ThreadedMotoServer  # a dev dependency: loaded only when used

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def contract_path() -> Path:
    return SETTINGS.contract_path


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The configured data as a CSV file, for the tests that write or edit its lines:
    the file itself, or a CSV copy of configured Parquet data."""
    if SAMPLE.suffix.lower() not in PARQUET_SUFFIXES:
        return SAMPLE
    path = tmp_path_factory.mktemp("sample") / f"{SAMPLE.stem}.csv"
    read_as_text(SAMPLE).to_csv(path, index=False)
    return path
