from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import MetricsFileError
from {{ cookiecutter.package_name }}.gate.baseline import (
    git_baseline,
    read_metrics,
    uses_tracking_server,
)
from {{ cookiecutter.package_name }}.gate.config import BaselineSource

from .conftest import metrics_document


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "metrics.json").write_text(json.dumps(metrics_document()))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "baseline")
    return tmp_path


def test_baseline_from_target_branch(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    (repo / "metrics" / "metrics.json").write_text(json.dumps(metrics_document(roc_auc=0.5)))
    baseline, label = git_baseline(BaselineSource(), repo)
    assert baseline is not None
    assert baseline["metrics"]["roc_auc"] == 0.84  # the committed one, not the working copy
    assert label.startswith("main:metrics/metrics.json")


def test_pull_request_base_ref_is_used(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "branch", "release")
    monkeypatch.setenv("GITHUB_BASE_REF", "release")
    _, label = git_baseline(BaselineSource(), repo)
    assert label.startswith("release:metrics/metrics.json")


def test_an_explicit_ref_wins_and_the_commit_under_test_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI passes the base commit (or, on main, the commit before the push)."""
    monkeypatch.setenv("GITHUB_BASE_REF", "release")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    baseline, label = git_baseline(BaselineSource(), repo, explicit_ref=head)
    assert baseline is not None
    assert label.startswith(f"{head}:metrics/metrics.json")
    assert "the commit under test" in label


def test_no_baseline_outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    baseline, label = git_baseline(BaselineSource(), tmp_path)
    assert baseline is None
    assert "not found" in label


def test_read_metrics_errors(tmp_path: Path) -> None:
    with pytest.raises(MetricsFileError, match="make train"):
        read_metrics(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MetricsFileError, match="not valid JSON"):
        read_metrics(bad)


def test_tracking_server_detection() -> None:
    assert uses_tracking_server("http://127.0.0.1:5000")
    assert not uses_tracking_server("sqlite:////tmp/mlflow.db")
