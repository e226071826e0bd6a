"""The `drift` and `simulate-drift` commands end to end, in a scratch project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.contract.datasets import to_typed
from {{ cookiecutter.package_name }}.layout import DRIFT_JSON, ModelMetadata, PredictionRecord
from {{ cookiecutter.package_name }}.monitoring.frames import feature_view
from {{ cookiecutter.package_name }}.monitoring.simulate import (
    flip_labels,
    resample,
    shift_numeric,
)
from {{ cookiecutter.package_name }}.settings import Settings

from .conftest import (
    contract,
    drift_config,
    install_model,
    positive_scores,
    raw_sample,
    roles,
    scratch_project,
    shifted_columns,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project whose prediction log is its own logs/predictions (the default)."""
    monkeypatch.delenv("MLOPS_PREDICTION_LOG_DIR")
    return scratch_project(tmp_path)


def run(project: Path, *args: str) -> int:
    return main(["--project-dir", str(project), *args])


def write_log(path: Path, raw_rows: object, version: str = "7", outcomes: bool = False) -> None:
    """A prediction log file in the service's format: typed JSON features, model scores."""
    spec = contract()
    typed = to_typed(raw_rows, spec)  # type: ignore[arg-type]
    scores = positive_scores(feature_view(typed, spec))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for (_, row), score in zip(typed.iterrows(), scores, strict=True):
            features = {name: row[name] for name in spec.feature_columns}
            features = {k: v.item() if hasattr(v, "item") else v for k, v in features.items()}
            features = {k: None if pd.isna(v) else v for k, v in features.items()}  # JSON null
            record = PredictionRecord(
                ts="2026-11-26T00:00:00.000Z",
                model_version=version,
                features=features,
                score=float(score),
                id=str(row[spec.id_column]) if spec.id_column else None,
                outcome=str(row[spec.target.column]) if outcomes else None,
            )
            handle.write(record.to_json() + "\n")


def test_without_a_log_it_checks_a_resample_and_says_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "drift") == 0
    out = capsys.readouterr().out
    assert "no prediction log at" in out
    assert "fresh resample" in out
    assert "no trained model" in out
    for name in ("drift.json", "drift.md", "drift.html"):
        assert (project / "reports" / name).is_file()
    assert json.loads((project / "reports" / "drift.json").read_text())["status"] == "ok"


def test_simulated_data_drift_fails_and_names_the_columns(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "simulate-drift", "data") == 0
    simulated = project / "reports" / "simulated" / "data.csv"
    assert simulated.is_file()
    capsys.readouterr()
    assert run(project, "drift", "--current", str(simulated)) == 1
    out = capsys.readouterr().out
    assert "drift: DETECTED - data drift in" in out
    for name in shifted_columns():
        assert name in out
        assert name in (project / "reports" / "drift.md").read_text()
    report = json.loads((project / "reports" / "drift.json").read_text())
    assert set(report["drifted"]) == shifted_columns()


def test_shift_and_segment_come_from_the_command_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = project / "shifted.parquet"
    column = roles().numeric
    shift = f"{column}=1.5"
    assert run(project, "simulate-drift", "data", "--shift", shift, "--out", str(out_file)) == 0
    assert run(project, "drift", "--current", str(out_file)) == 1
    report = json.loads((project / "reports" / "drift.json").read_text())
    assert report["drifted"] == [column]
    assert f"{column} x1.5" in capsys.readouterr().out


def test_simulated_concept_drift_fails_on_live_metrics(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_model(project)
    assert run(project, "simulate-drift", "concept") == 0
    capsys.readouterr()
    assert run(project, "drift", "--current", "reports/simulated/concept.csv") == 1
    out = capsys.readouterr().out
    assert "concept drift: roc_auc" in out
    assert "scored with model version 7" in out
    report = json.loads((project / "reports" / "drift.json").read_text())
    assert "roc_auc" in report["degraded_metrics"]
    assert report["drifted"] == [f"{roles().target} (label)"]  # no input feature moved


def test_the_prediction_log_is_read_directly(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_model(project)
    write_log(project / "logs" / "predictions" / "a.jsonl", resample(raw_sample(), 1000, seed=3))
    write_log(project / "logs" / "predictions" / "b.jsonl", resample(raw_sample(), 500, seed=4))
    assert run(project, "drift") == 0
    out = capsys.readouterr().out
    assert "model versions in the log: 7 (1500 rows)" in out
    report = json.loads((project / "reports" / "drift.json").read_text())
    assert report["current"]["rows"] == 1500
    assert "prediction score" in [c["column"] for c in report["columns"]]


def test_a_drifted_prediction_log_fails(project: Path) -> None:
    install_model(project)
    factors = drift_config().simulation.data_drift
    shifted = shift_numeric(resample(raw_sample(), 1500, seed=3), contract(), dict(factors))
    log = project / "logs" / "drifted.jsonl"
    write_log(log, shifted)
    assert run(project, "drift", "--current", str(log)) == 1
    report = json.loads((project / "reports" / "drift.json").read_text())
    assert shifted_columns() <= set(report["drifted"])
    assert "prediction score" in report["drifted"]


@pytest.mark.skipif(roles().id is None, reason="the data contract declares no id column")
def test_late_labels_join_on_the_id(project: Path) -> None:
    install_model(project)
    id_column, target = roles().id, roles().target
    rows = resample(raw_sample(), 1500, seed=4).drop_duplicates(id_column)
    log = project / "logs" / "predictions" / "a.jsonl"
    write_log(log, rows)
    segment = drift_config().simulation.concept_drift
    assert segment is not None, "config/drift.yaml: simulation.concept_drift names no segment"
    outcomes = flip_labels(rows, contract(), dict(segment.segment))[[id_column, target]]
    labels = project / "labels.csv"
    outcomes.to_csv(labels, index=False)
    assert run(project, "drift", "--labels", str(labels)) == 1
    report = json.loads((project / "reports" / "drift.json").read_text())
    assert report["concept"]["rows"] == len(rows)
    assert "roc_auc" in report["degraded_metrics"]


def test_outcomes_in_the_log_are_labels(project: Path) -> None:
    install_model(project)
    write_log(
        project / "logs" / "predictions" / "a.jsonl",
        resample(raw_sample(), 1500, seed=5),
        outcomes=True,
    )
    assert run(project, "drift") == 0
    report = json.loads((project / "reports" / "drift.json").read_text())
    assert report["concept"]["rows"] == 1500
    assert report["degraded_metrics"] == []


def test_a_missing_current_file_is_one_clear_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "drift", "--current", "nowhere.csv") == 1
    err = capsys.readouterr().err
    assert "error: data file not found" in err
    assert "Traceback" not in err


def test_a_bad_config_is_one_clear_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = project / "config" / "drift.yaml"
    config.write_text(config.read_text().replace("alpha: 0.05", "alpha: 5"))
    assert run(project, "drift") == 1
    err = capsys.readouterr().err
    assert "drift config" in err
    assert "alpha" in err


def test_config_naming_unknown_columns_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config" / "drift.yaml"
    config.write_text(config.read_text().replace("exclude: []", "exclude: [Salary]"))
    assert run(project, "drift") == 1
    err = capsys.readouterr().err
    assert "config/drift.yaml does not match the data contract" in err
    assert "exclude: 'Salary' is not a feature column" in err


def test_a_log_without_feature_columns_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = project / "logs" / "predictions" / "a.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text(PredictionRecord("t", "1", {roles().numeric: 3}, 0.4).to_json() + "\n")
    assert run(project, "drift") == 1
    assert "lacks feature column(s)" in capsys.readouterr().err


def test_too_few_rows_pass_with_a_note(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, "simulate-drift", "data", "--rows", "50") == 0
    assert run(project, "drift", "--current", "reports/simulated/data.csv") == 0
    assert "too few" in capsys.readouterr().out


def test_a_log_from_another_model_version_is_pointed_out(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_model(project, version="8")
    write_log(
        project / "logs" / "predictions" / "a.jsonl", resample(raw_sample(), 500, seed=6), "7"
    )
    run(project, "drift")
    out = capsys.readouterr().out
    assert "model versions in the log: 7 (500 rows)" in out
    assert "other model versions than models/current (8)" in out


@pytest.mark.slow
def test_drift_names_the_version_of_a_freshly_trained_model(
    trained_project: tuple[Settings, ModelMetadata], tmp_path: Path
) -> None:
    """Drift reads the model version as train wrote it (layout.ModelMetadata), never 'unknown'."""
    settings, metadata = trained_project
    project = tmp_path / "project"
    shutil.copytree(settings.project_dir, project, ignore=shutil.ignore_patterns("reports"))
    assert main(["--project-dir", str(project), "drift"]) in (0, 1)
    notes = json.loads((project / "reports" / DRIFT_JSON).read_text())["notes"]
    assert f"scored with model version {metadata.model_version}" in " ".join(notes)
    assert not any("unknown" in note for note in notes)

    log = project / "old.jsonl"
    lines = []
    for row in raw_sample().head(300).to_dict("records"):
        features = {c: row[c] for c in contract().feature_columns}
        lines.append(PredictionRecord("t", "0", features, 0.5).to_json() + "\n")
    log.write_text("".join(lines))
    assert main(["--project-dir", str(project), "drift", "--current", str(log)]) in (0, 1)
    notes = json.loads((project / "reports" / DRIFT_JSON).read_text())["notes"]
    assert any("other model versions than models/current (1)" in note for note in notes)
