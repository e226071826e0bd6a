"""`deploy` on the command line: mistakes are one clear line; status works with nothing live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import main


@pytest.fixture
def deploy_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_DEPLOY_DIR", str(tmp_path / "deploy"))
    return tmp_path / "deploy"


def use_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Point `deploy` at a config/deploy.yaml holding `text`."""
    config = tmp_path / "deploy.yaml"
    config.write_text(text)
    monkeypatch.setenv("MLOPS_DEPLOY_CONFIG_PATH", str(config))


def test_missing_model_is_one_clear_line(
    deploy_dir: Path, tmp_path: Path, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--project-dir", str(project_dir), "deploy", "--model-dir", str(tmp_path / "none")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "deploy: error: no trained model in" in err
    assert "run `make train` first" in err
    assert "Traceback" not in err


def test_aws_needs_an_image_and_a_model_version(
    deploy_dir: Path, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project-dir", str(project_dir), "deploy", "--platform", "aws"]) == 1
    assert "needs --image <repository>@sha256:… and --model-version" in capsys.readouterr().err


def test_status_with_nothing_deployed(
    deploy_dir: Path, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project-dir", str(project_dir), "deploy", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["live"] == "nothing"
    assert status["production"] == "http://127.0.0.1:8080"


def test_status_with_nothing_deployed_needs_no_nginx(
    deploy_dir: Path,
    tmp_path: Path,
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fresh machine without nginx can still ask what is deployed (nothing)."""
    use_config(tmp_path, monkeypatch, "local:\n  nginx: no-such-nginx-binary\n")
    assert main(["--project-dir", str(project_dir), "deploy", "status"]) == 0
    assert json.loads(capsys.readouterr().out)["live"] == "nothing"


def test_rollback_without_history_is_refused(
    deploy_dir: Path, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project-dir", str(project_dir), "deploy", "rollback"]) == 1
    assert "nothing to roll back to" in capsys.readouterr().err


def test_invalid_deploy_config_is_named(
    tmp_path: Path,
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_config(tmp_path, monkeypatch, "traffic:\n  steps: [10, 50]\n")
    assert main(["--project-dir", str(project_dir), "deploy", "status"]) == 1
    assert "the last step must be 100" in capsys.readouterr().err
