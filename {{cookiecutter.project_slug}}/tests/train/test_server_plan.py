"""The team's tracking server is worked out from the settings: no default password, no
password on a command line or in a file, loopback-only unless told otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.errors import TrackingServerError
from {{ cookiecutter.package_name }}.gate.baseline import no_such_alias
from {{ cookiecutter.package_name }}.train.server_plan import (
    allowed_hosts,
    artifacts_destination,
    backend_uri,
    plan_server,
)

ADMIN = "a-long-admin-password"
DB = "db-password"


def plan(**overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "python": "/venv/bin/python",
        "project_dir": Path("/p"),
        "tracking_dir": Path("/p/tracking"),
        "host": "127.0.0.1",
        "port": 5000,
        "workers": 2,
        "extra_allowed_hosts": "",
        "artifacts": "",
        "given_backend_uri": "",
        "db_port": 5433,
        "db_password": DB,
        "admin_username": "admin",
        "admin_password": ADMIN,
        "secret_key": "k" * 64,
        "environ": {"PATH": "/bin", "MLFLOW_TRACKING_URI": "http://elsewhere"},
    }
    arguments.update(overrides)
    return plan_server(**arguments)


def test_defaults_a_local_cluster_served_artifacts_and_the_login() -> None:
    result = plan()
    command = " ".join(result.command)
    assert result.local_postgres
    assert result.backend_uri == "postgresql+psycopg2://mlflow@127.0.0.1:5433/mlflow"
    assert "--serve-artifacts --artifacts-destination /p/tracking/artifacts" in command
    assert "--app-name basic-auth" in command
    assert "--allowed-hosts localhost:5000,127.0.0.1:5000" in command
    assert result.url == "http://127.0.0.1:5000"
    for secret in (ADMIN, DB):
        assert secret not in command
        assert secret not in result.auth_ini
    assert result.env["MLFLOW_AUTH_ADMIN_PASSWORD"] == ADMIN
    assert result.env["PGPASSWORD"] == DB
    assert "MLFLOW_TRACKING_URI" not in result.env  # a client's setting, not the server's


def test_verified_passwords_are_cached_and_the_genai_job_system_is_off() -> None:
    """Each request's scrypt check and MLflow's job processes cost more CPU than the
    trainings the server serves; a user who wants the jobs turns them back on."""
    result = plan()
    assert "\nauth_cache_ttl_seconds = 60\n" in result.auth_ini
    assert result.env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    wanted = plan(environ={"PATH": "/bin", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true"})
    assert wanted.env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "true"


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("admin_password", "MLOPS_TRACKING_ADMIN_PASSWORD"),
        ("db_password", "MLOPS_TRACKING_DB_PASSWORD"),
    ],
)
def test_there_is_no_default_password(field: str, variable: str) -> None:
    with pytest.raises(TrackingServerError, match=f"{variable} is not set: .*no default"):
        plan(**{field: None})


def test_a_short_admin_password_is_refused() -> None:
    with pytest.raises(TrackingServerError, match="at least 12 characters"):
        plan(admin_password="short")


def test_an_external_database_starts_no_cluster() -> None:
    result = plan(given_backend_uri="postgresql://mlflow@db.internal:5432/mlflow")
    assert not result.local_postgres
    assert result.backend_uri == "postgresql+psycopg2://mlflow@db.internal:5432/mlflow"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("postgresql://mlflow:secret@db:5432/mlflow", "holds a password"),
        ("mysql://mlflow@db/mlflow", "must be a PostgreSQL URI"),
        ("db.internal:5432", "must be a PostgreSQL URI"),
    ],
)
def test_bad_backend_uris_are_refused(given: str, message: str) -> None:
    with pytest.raises(TrackingServerError, match=message) as caught:
        backend_uri(given, 5433)
    assert "secret" not in str(caught.value)


def test_artifacts_go_to_a_folder_or_s3() -> None:
    assert artifacts_destination("s3://team-mlflow/runs/", Path("t"), Path("/p")) == (
        "s3://team-mlflow/runs"
    )
    assert artifacts_destination("shared", Path("t"), Path("/p")) == "/p/shared"
    with pytest.raises(TrackingServerError, match="folder or an s3:// URI"):
        artifacts_destination("gs://bucket", Path("t"), Path("/p"))


def test_listening_everywhere_answers_only_the_names_given() -> None:
    assert allowed_hosts("0.0.0.0", 5000, "mlflow.internal:5000") == (
        "localhost:5000,127.0.0.1:5000,mlflow.internal:5000"
    )
    assert plan(host="0.0.0.0").notes  # says to set MLOPS_TRACKING_ALLOWED_HOSTS


def test_only_a_missing_champion_is_no_baseline() -> None:
    assert no_such_alias("INVALID_PARAMETER_VALUE", "Registered model alias champion not found.")
    assert no_such_alias("RESOURCE_DOES_NOT_EXIST", "Registered Model not found")
    assert not no_such_alias("UNAUTHENTICATED", "You are not authenticated.")
