from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.contract.model import training_data_path
from {{ cookiecutter.package_name }}.errors import ContractError
from {{ cookiecutter.package_name }}.settings import STDOUT, Settings

from .conftest import PROJECT_DIR, contract

# Read by the drift notifications from the environment they are given, not by Settings.
NOT_SETTINGS = {"MLOPS_SLACK_WEBHOOK_URL", "MLOPS_GITHUB_ISSUE_REPO"}


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
    assert settings.contract_path == tmp_path / "config/data_contract.yaml"
    assert settings.path(Path("/abs/file.csv")) == Path("/abs/file.csv")


def test_the_data_file_is_named_by_the_contract_and_the_environment_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = contract().model_copy(update={"data_file": Path("data/raw/mine.csv")})
    monkeypatch.delenv("MLOPS_DATA_PATH", raising=False)
    assert training_data_path(Settings(project_dir=tmp_path), spec) == (
        tmp_path / "data/raw/mine.csv"
    )
    monkeypatch.setenv("MLOPS_DATA_PATH", "extracts/big.parquet")
    assert training_data_path(Settings(project_dir=tmp_path), spec) == (
        tmp_path / "extracts/big.parquet"
    )


def test_no_data_file_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_DATA_PATH", raising=False)
    spec = contract().model_copy(update={"data_file": None})
    with pytest.raises(ContractError, match=r"set data_file in config/data_contract\.yaml"):
        training_data_path(Settings(project_dir=tmp_path), spec)


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.contract_path = Path("x.yaml")  # type: ignore[misc]


def _env_names() -> set[str]:
    """Every variable name Settings reads (MLOPS_<FIELD>, plus declared aliases)."""
    names = set()
    for name, field in Settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        if choices:
            names |= {str(choice).upper() for choice in choices}
        else:
            names.add(f"MLOPS_{name.upper()}")
    return names


FILES_THAT_SET_VARIABLES = [
    "docker-compose.yml",
    "Dockerfile",
    "Makefile",
    *sorted(
        p.relative_to(PROJECT_DIR).as_posix()
        for p in (PROJECT_DIR / ".github" / "workflows").glob("*.yml")
    ),
]


@pytest.mark.parametrize("file", FILES_THAT_SET_VARIABLES)
def test_every_mlops_variable_a_file_names_is_a_setting(file: str) -> None:
    """One name per setting for every process: a variable no field reads is a silent no-op."""
    text = (PROJECT_DIR / file).read_text(encoding="utf-8")
    used = set(re.findall(r"\b(MLOPS_[A-Z_]*[A-Z])\b", text))
    unknown = used - _env_names() - NOT_SETTINGS
    assert not unknown, f"{file} names {sorted(unknown)}, which no Settings field reads"


def test_the_compose_service_logs_where_drift_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["service"]
    for name, value in service["environment"].items():
        monkeypatch.setenv(name, str(value))
    in_container = Settings(project_dir=Path("/app"))
    assert in_container.prediction_log_sample > 0
    assert in_container.prediction_log_dir == Path("/app/logs/predictions")
    assert "./logs:/app/logs" in service["volumes"]
    for name in service["environment"]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("MLOPS_PREDICTION_LOG_DIR", raising=False)
    on_the_host = Settings(project_dir=PROJECT_DIR)
    assert on_the_host.prediction_log_dir == PROJECT_DIR / "logs" / "predictions"


def test_the_image_logs_into_its_volume() -> None:
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text(encoding="utf-8")
    assert "MLOPS_PREDICTION_LOG_DIR=/app/logs/predictions" in dockerfile
    assert 'VOLUME ["/app/logs"]' in dockerfile
    assert "chown 10001:10001 /app/logs" in dockerfile


def test_standard_output_is_a_log_destination(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_PREDICTION_LOG_DIR", "-")
    assert Settings(project_dir=PROJECT_DIR).prediction_log_dir == STDOUT


def test_the_readme_documents_every_setting() -> None:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    missing = sorted(
        name for name in _env_names() if f"`{name}`" not in readme and name != "GITHUB_SHA"
    )
    assert not missing, f"README's Settings table lacks {missing}"
