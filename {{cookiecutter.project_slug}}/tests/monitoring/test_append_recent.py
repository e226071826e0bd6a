"""The retraining loop's data step: `drift` keeps the labelled recent rows it checked,
`append-recent` adds the new ones to the training data, which still passes the contract."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.model import training_data_path
from {{ cookiecutter.package_name }}.contract.pii import pii_hash
from {{ cookiecutter.package_name }}.layout import RECENT_LABELLED_CSV
from {{ cookiecutter.package_name }}.monitoring.simulate import resample
from {{ cookiecutter.package_name }}.settings import Settings

from .conftest import contract, install_model, raw_sample, roles, scratch_project
from .test_drift_command import run, write_log

pytestmark = pytest.mark.skipif(roles().id is None, reason="the contract declares no id column")


@pytest.fixture
def project(tmp_path: Path, sample_csv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project whose prediction log is its own logs/predictions (the default).

    These tests append to the training data: the project gets its own CSV copy of it,
    even when MLOPS_DATA_PATH points at the user's file (never written here) or at
    Parquet data (`append-recent` appends to CSV only).
    """
    monkeypatch.delenv("MLOPS_PREDICTION_LOG_DIR")
    project = scratch_project(tmp_path)
    data = project / "data" / "training_copy.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample_csv, data)
    monkeypatch.setenv("MLOPS_DATA_PATH", str(data))
    install_model(project)
    monkeypatch.setenv("MLOPS_PREDICTION_LOG_DIR", str(project / "logs" / "predictions"))
    return project


def data_rows(project: Path) -> pd.DataFrame:
    return pd.read_csv(training_data_path(Settings(project_dir=project), contract()), dtype=str)


def test_new_labelled_rows_are_appended_once_and_pass_the_contract(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    id_column = roles().id
    assert id_column is not None
    before = data_rows(project)
    rows = resample(raw_sample(), 300, seed=11).reset_index(drop=True)
    rows[id_column] = [f"NEW-{i:04d}" for i in range(200)] + list(before[id_column][:100])
    write_log(project / "logs" / "predictions" / "recent.jsonl", rows, outcomes=True)
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("MLOPS_DRIFT_FAIL_ON_DRIFT", "false")
    assert run(project, "drift") == 0
    assert outputs.read_text() in {"drift=true\n", "drift=false\n"}
    recent = pd.read_csv(project / "reports" / RECENT_LABELLED_CSV, dtype=str)
    assert len(recent) == 300

    assert run(project, "append-recent") == 0
    after = data_rows(project)
    assert len(after) == len(before) + 200  # the 100 known ids are not added again
    assert list(after[id_column][-200:]) == [f"NEW-{i:04d}" for i in range(200)]
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)
    assert run(project, "append-recent") == 0  # a second run adds nothing
    assert len(data_rows(project)) == len(after)
    assert run(project, "validate") == 0


def test_without_outcomes_the_data_stays_as_is(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = data_rows(project)
    write_log(
        project / "logs" / "predictions" / "recent.jsonl", resample(raw_sample(), 300, seed=12)
    )
    run(project, "drift")
    assert not (project / "reports" / RECENT_LABELLED_CSV).exists()
    assert run(project, "append-recent") == 0
    assert "no labelled recent data" in capsys.readouterr().out
    pd.testing.assert_frame_equal(data_rows(project), before)


def test_hashed_personal_values_are_never_appended(project: Path) -> None:
    """Rows as the service logs them (personal columns hashed) cannot join the training data."""
    id_column = roles().id
    assert id_column is not None
    before = data_rows(project)
    recent = before.head(5).copy()
    recent[id_column] = [pii_hash(f"NEW-{i}") for i in range(5)]
    (project / "reports").mkdir(exist_ok=True)
    recent.to_csv(project / "reports" / RECENT_LABELLED_CSV, index=False)
    assert run(project, "append-recent") == 1
    pd.testing.assert_frame_equal(data_rows(project), before)
