"""The train and evaluate steps end to end, into a temporary project folder and MLflow store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.io import metrics_file, model_store, tracking
from {{ cookiecutter.package_name }}.settings import Settings


def test_cli_import_stays_light() -> None:
    """Training code is imported by the commands that need it, so `--help` stays instant."""
    code = (
        "import sys, {{ cookiecutter.package_name }}.cli; "
        "print(sorted(m for m in ('pandas', 'sklearn', 'mlflow') if m in sys.modules))"
    )
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


def _settings(tmp_path: Path, project_dir: Path) -> Settings:
    return Settings(
        project_dir=tmp_path,
        data_path=project_dir / "data" / "raw" / "telco_customer_churn.csv",
        contract_path=project_dir / "config" / "data_contract.yaml",
        training_config_path=project_dir / "config" / "model.yaml",
        data_rules_path=project_dir / "config" / "data_rules.yaml",
        tracking_uri=None,
    )


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
    tmp_path: Path, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config").mkdir()
    for name in ("data_contract.yaml", "model.yaml", "data_rules.yaml"):
        (tmp_path / "config" / name).write_bytes((project_dir / "config" / name).read_bytes())
    assert main(["--project-dir", str(tmp_path), "train"]) == 1
    err = capsys.readouterr().err
    assert "data file not found" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_train_twice_tracks_registers_and_reproduces(
    tmp_path: Path, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    from {{ cookiecutter.package_name }}.jobs.evaluate import run_evaluate
    from {{ cookiecutter.package_name }}.jobs.train import run_train

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = _settings(tmp_path, project_dir)
    first = run_train(settings)
    record = metrics_file.read_metrics(tmp_path / "metrics" / "metrics.json")
    second = run_train(settings)
    again = metrics_file.read_metrics(tmp_path / "metrics" / "metrics.json")

    # Deterministic: everything but the measured latency is identical.
    record.pop("latency_ms")
    assert set(again.pop("latency_ms")) == {"p50", "p95"}
    assert again == record
    assert record["metrics"]["roc_auc"] > 0.8
    assert record["data"]["rows"] == {"train": 5634, "test": 1409}
    assert record["model"]["estimator"] == "sklearn.linear_model.LogisticRegression"

    # MLflow: two runs, two versions, the alias on the newest; params, metrics, plots, model.
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    name = settings.registered_model_name
    assert (first["mlflow"]["version"], second["mlflow"]["version"]) == ("1", "2")
    assert str(client.get_model_version_by_alias(name, "challenger").version) == "2"
    run = client.get_run(second["mlflow"]["run_id"])
    assert run.data.params["data_fingerprint"] == record["data"]["fingerprint"]
    assert run.data.params["contract_fingerprint"] == record["data"]["contract"]
    assert run.data.metrics["roc_auc"] == pytest.approx(record["metrics"]["roc_auc"], abs=1e-6)
    figures = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert figures == {
        f"figures/{n}"
        for n in ("roc.png", "precision_recall.png", "confusion_matrix.png", "calibration.png")
    }
    assert (tmp_path / "mlartifacts").is_dir()
    assert (tmp_path / "mlflow.db").is_file()

    # models/current holds the second model; evaluate reproduces the recorded metrics.
    _, metadata = model_store.load_current(tmp_path / "models")
    assert metadata["mlflow"]["run_id"] == second["mlflow"]["run_id"]
    assert metrics_file.rounded(run_evaluate(settings)) == record["metrics"]
