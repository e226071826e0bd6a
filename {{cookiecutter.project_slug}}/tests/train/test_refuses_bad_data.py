"""Training validates first: corrupted data never reaches a model, a metrics file or MLflow."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.contract.datasets import read_raw
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.train.steps import run_train

from ..conftest import roles

UNKNOWN = "Not a listed value"
# An unlisted category; in a numeric column (the contract may have no categorical), not a number.
COLUMN = roles().categorical or roles().numeric


@pytest.fixture
def project(tmp_path: Path, project_dir: Path, sample_path: Path) -> Path:
    """The project's config and its data with an unknown value in five rows of a feature."""
    shutil.copytree(project_dir / "config", tmp_path / "config")
    (tmp_path / "data").mkdir()
    raw = read_raw(sample_path)
    raw.loc[raw.index[:5], COLUMN] = UNKNOWN
    raw.to_csv(tmp_path / "data" / "bad.csv", index=False)
    return tmp_path


def test_train_refuses_invalid_data_before_anything_is_written(project: Path) -> None:
    settings = Settings(project_dir=project, data_path=Path("data/bad.csv"))
    with pytest.raises(DataValidationError, match=re.escape(COLUMN)):
        run_train(settings)
    assert not (project / "mlflow.db").exists()
    assert not (project / "models").exists()
    assert not (project / "metrics").exists()


def test_cli_prints_the_failure_table_without_traceback(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_DATA_PATH", "data/bad.csv")
    assert main(["--project-dir", str(project), "train"]) == 1
    err = capsys.readouterr().err
    assert "data validation failed" in err
    assert COLUMN in err
    assert f"'{UNKNOWN}'" in err
    assert "Traceback" not in err
