from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import Settings


def test_default_tracking_store_is_local_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings(project_dir=tmp_path)
    assert settings.mlflow_tracking_uri == f"sqlite:///{tmp_path.resolve()}/mlflow.db"


def test_tracking_server_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert Settings().mlflow_tracking_uri == "http://127.0.0.1:5000"


def test_paths_resolve_against_project(tmp_path: Path) -> None:
    settings = Settings(project_dir=tmp_path)
    assert settings.path(settings.data_path) == tmp_path / "data/raw/telco_customer_churn.csv"
    assert settings.path(Path("/abs/file.csv")) == Path("/abs/file.csv")


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.data_path = Path("x.csv")  # type: ignore[misc]
