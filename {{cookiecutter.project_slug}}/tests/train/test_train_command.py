"""The train and evaluate steps end to end, into a temporary project folder and MLflow store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.layout import (
    CHALLENGER_ALIAS,
    METRICS_FILE,
    MetricsRecord,
    ModelMetadata,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.train import metrics_file, model_store, tracking


def test_cli_import_stays_light() -> None:
    """Training code is imported by the commands that need it, so `--help` stays instant."""
    probe = "print(sorted(m for m in ('pandas', 'sklearn', 'mlflow') if m in sys.modules))"
    code = f"import sys, {{ cookiecutter.package_name }}.cli; {probe}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_metric_keys_are_mlflow_safe() -> None:
    key = tracking.metric_key("slice", "PaymentMethod", "Bank transfer (automatic)", "roc_auc")
    assert key == "slice.PaymentMethod.Bank transfer _automatic_.roc_auc"


def test_pip_requirements_are_pinned() -> None:
    pins = tracking.pinned_requirements()
    names = {pin.split("==")[0] for pin in pins}
    assert {"mlflow", "scikit-learn", "pandas", "numpy"} <= names
    assert all("==" in pin for pin in pins)


def test_evaluate_without_model_is_one_clear_line(
    tmp_path: Path, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config").mkdir()
    for name in ("data_contract.yaml", "model.yaml", "data_rules.yaml"):
        (tmp_path / "config" / name).write_bytes((project_dir / "config" / name).read_bytes())
    assert main(["--project-dir", str(tmp_path), "evaluate"]) == 1
    err = capsys.readouterr().err
    assert "run `make train` first" in err
    assert "Traceback" not in err


def test_train_with_missing_data_is_one_clear_line(
    tmp_path: Path,
    project_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLOPS_DATA_PATH", raising=False)  # the data file of this project only
    (tmp_path / "config").mkdir()
    for name in ("data_contract.yaml", "model.yaml", "data_rules.yaml"):
        (tmp_path / "config" / name).write_bytes((project_dir / "config" / name).read_bytes())
    assert main(["--project-dir", str(tmp_path), "train"]) == 1
    err = capsys.readouterr().err
    assert "data file not found" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_train_tracks_registers_and_evaluate_reproduces(
    trained_project: tuple[Settings, ModelMetadata],
) -> None:
    """One real training: files, MLflow run and registry, and evaluate agrees with the record.

    Determinism (two trainings, same metrics) is a model test (model_tests/test_stability.py).
    """
    from mlflow import MlflowClient

    from {{ cookiecutter.package_name }}.train.steps import run_evaluate

    settings, trained = trained_project
    record = metrics_file.read_metrics(settings.metrics_dir / METRICS_FILE)
    MetricsRecord.model_validate(record)
    assert set(record["latency_ms"]) == {"p50", "p95"}
    assert record["metrics"]["roc_auc"] > 0.8
    assert record["model"]["estimator"] == "sklearn.linear_model.LogisticRegression"

    # MLflow: one run, version 1 aliased challenger; params, metrics, plots, model.
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    name = settings.registered_model_name
    assert trained.mlflow is not None
    assert trained.mlflow.run_id is not None
    assert trained.model_version == trained.mlflow.version == "1"
    assert str(client.get_model_version_by_alias(name, CHALLENGER_ALIAS).version) == "1"
    run = client.get_run(trained.mlflow.run_id)
    assert run.data.params["data_fingerprint"] == record["data"]["fingerprint"]
    assert run.data.params["contract_fingerprint"] == record["data"]["contract"]
    assert run.data.metrics["roc_auc"] == pytest.approx(record["metrics"]["roc_auc"], abs=1e-6)
    figures = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert figures == {
        f"figures/{n}"
        for n in ("roc.png", "precision_recall.png", "confusion_matrix.png", "calibration.png")
    }
    assert (settings.project_dir / "mlartifacts").is_dir()
    assert (settings.project_dir / "mlflow.db").is_file()

    # models/current holds the model, its metadata read back through layout; evaluate agrees.
    _, metadata = model_store.load_current(settings.models_dir)
    assert metadata == trained
    assert metrics_file.rounded(run_evaluate(settings)) == record["metrics"]
