"""Notifications against a local HTTP server standing in for Slack and GitHub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.monitoring.notify import notify
from {{ cookiecutter.package_name }}.monitoring.steps import run_drift
from {{ cookiecutter.package_name }}.settings import Settings

from .conftest import scratch_project, shifted_columns


class Recorder(ThreadingHTTPServer):
    """Records every request; answers like the real APIs do."""

    open_issues: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    fail: bool


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(500 if self.server.fail else status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length)) if length else None
        entry = {
            "method": self.command,
            "path": self.path,
            "payload": payload,
            "auth": self.headers.get("Authorization"),
        }
        self.server.requests.append(entry)
        return entry

    def do_GET(self) -> None:
        self._record()
        self._answer(self.server.open_issues)

    def do_POST(self) -> None:
        entry = self._record()
        if entry["path"].endswith("/issues"):
            self._answer({"number": 42}, status=201)
        else:
            self._answer({"ok": True})

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        return


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder(("127.0.0.1", 0), Handler)
    recorder.open_issues, recorder.requests, recorder.fail = [], [], False
    thread = threading.Thread(
        target=recorder.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield recorder
    recorder.shutdown()
    recorder.server_close()
    thread.join(timeout=5)


def url(server: Recorder, path: str = "") -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}{path}"


def test_off_by_default(server: Recorder) -> None:
    assert notify("title", "body", {}) == []
    assert server.requests == []


def test_slack_webhook_gets_the_headline(server: Recorder) -> None:
    (delivery,) = notify(
        "drift: DETECTED", "details", {"MLOPS_SLACK_WEBHOOK_URL": url(server, "/hook")}
    )
    assert delivery.ok
    (request,) = server.requests
    assert request["path"] == "/hook"
    assert request["payload"]["text"].startswith("*drift: DETECTED*")


def test_github_opens_a_labelled_issue(server: Recorder) -> None:
    env = {
        "MLOPS_GITHUB_ISSUE_REPO": "acme/churn",
        "GITHUB_TOKEN": "t0ken",
        "GITHUB_API_URL": url(server),
    }
    (delivery,) = notify("drift: DETECTED", "the report", env)
    assert delivery.ok
    assert "acme/churn#42" in delivery.detail
    search, create = server.requests
    assert search["method"] == "GET"
    assert search["path"].startswith("/repos/acme/churn/issues?")
    assert "labels=drift" in search["path"]
    assert create["path"] == "/repos/acme/churn/issues"
    assert create["payload"] == {
        "title": "drift: DETECTED",
        "body": "the report",
        "labels": ["drift"],
    }
    assert create["auth"] == "Bearer t0ken"


def test_github_comments_on_the_open_issue(server: Recorder) -> None:
    server.open_issues = [{"number": 7}]
    env = {
        "MLOPS_GITHUB_ISSUE_REPO": "acme/churn",
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": url(server),
    }
    (delivery,) = notify("again", "still drifting", env)
    assert delivery.ok
    assert "#7" in delivery.detail
    assert server.requests[-1]["path"] == "/repos/acme/churn/issues/7/comments"
    assert "still drifting" in server.requests[-1]["payload"]["body"]


def test_failures_are_reported_not_raised(server: Recorder) -> None:
    server.fail = True
    env = {
        "MLOPS_SLACK_WEBHOOK_URL": url(server, "/hook"),
        "MLOPS_GITHUB_ISSUE_REPO": "acme/churn",
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": url(server),
    }
    deliveries = notify("t", "b", env)
    assert [d.ok for d in deliveries] == [False, False]
    assert "500" in deliveries[0].detail


def test_repo_without_token_is_a_failed_delivery() -> None:
    (delivery,) = notify("t", "b", {"MLOPS_GITHUB_ISSUE_REPO": "acme/churn"})
    assert not delivery.ok
    assert "GITHUB_TOKEN" in delivery.detail


def test_only_http_urls_are_used() -> None:
    (delivery,) = notify("t", "b", {"MLOPS_SLACK_WEBHOOK_URL": "file:///etc/passwd"})
    assert not delivery.ok
    assert "non-HTTP" in delivery.detail


def test_drift_command_notifies_only_on_drift(
    server: Recorder,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLOPS_PREDICTION_LOG_DIR")  # the scratch project's own (empty) log
    project = scratch_project(tmp_path)
    settings = Settings(project_dir=project)
    env = {"MLOPS_SLACK_WEBHOOK_URL": url(server, "/hook")}
    assert run_drift(settings, env=env) == 0
    assert server.requests == []
    assert main(["--project-dir", str(project), "simulate-drift", "data"]) == 0
    assert run_drift(settings, current=Path("reports/simulated/data.csv"), env=env) == 1
    (request,) = server.requests
    assert any(column in request["payload"]["text"] for column in shifted_columns())
    assert "notified: Slack message sent" in capsys.readouterr().out
