"""What child processes (the service, locust) inherit, and how long a load run may take."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.serving.locust import duration_seconds
from {{ cookiecutter.package_name }}.serving.process import scrubbed_environment


def test_credentials_never_reach_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GITHUB_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "MLOPS_SLACK_WEBHOOK_URL",
    )
    for name in secrets:
        monkeypatch.setenv(name, "secret")
    monkeypatch.setenv("MLOPS_MAX_IN_FLIGHT", "9")
    env = scrubbed_environment({"MLOPS_PROJECT_DIR": "/p"})
    assert "secret" not in env.values()
    assert env["MLOPS_MAX_IN_FLIGHT"] == "9"
    assert env["MLOPS_PROJECT_DIR"] == "/p"
    assert "PATH" in env


@pytest.mark.parametrize(
    ("text", "seconds"), [("10s", 10), ("1m30s", 90), ("2h", 7200), ("45", 45)]
)
def test_locust_run_times(text: str, seconds: float) -> None:
    assert duration_seconds(text) == seconds
