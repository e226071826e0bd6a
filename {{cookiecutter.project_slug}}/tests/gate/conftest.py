"""Synthetic metrics documents shaped like the ones `train` writes; a fake GitHub API."""

from __future__ import annotations

import copy
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def metrics_document(**overrides: float) -> dict[str, Any]:
    metrics = {
        "roc_auc": 0.84,
        "pr_auc": 0.63,
        "f1": 0.60,
        "precision": 0.55,
        "recall": 0.66,
        "accuracy": 0.78,
        "log_loss": 0.42,
        "brier": 0.14,
    }
    metrics.update(overrides)
    return {
        "model": {"estimator": "LogisticRegression", "size_bytes": 200_000, "threshold": 0.5},
        "data": {
            "fingerprint": "a" * 64,
            "contract": "c" * 12,
            "rows": {"train": 5634, "test": 1409},
            "test_ids_fingerprint": "b" * 64,
        },
        "metrics": metrics,
        "slices": {
            "Contract": {
                "Month-to-month": {"n": 775, "positive_rate": 0.43, "roc_auc": 0.75, "recall": 0.8},
                "One year": {"n": 295, "positive_rate": 0.11, "roc_auc": 0.77, "recall": 0.3},
                "Two year": {"n": 339, "positive_rate": 0.03, "roc_auc": 0.80, "recall": 0.1},
            },
            "gender": {
                "Female": {"n": 700, "positive_rate": 0.27, "roc_auc": 0.84, "recall": 0.65},
                "Male": {"n": 709, "positive_rate": 0.26, "roc_auc": 0.84, "recall": 0.67},
            },
        },
        "latency_ms": {"p50": 4.0, "p95": 6.0},
    }


def modified(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Copy of doc with the dotted path set to value (slice keys may contain spaces)."""
    result = copy.deepcopy(doc)
    *parents, last = path.split("/")
    node = result
    for key in parents:
        node = node[key]
    node[last] = value
    return result


class FakeGitHub(ThreadingHTTPServer):
    """GitHub's REST API for one repository, on 127.0.0.1: pull requests, comments, run jobs."""

    def __init__(self, repository: str) -> None:
        super().__init__(("127.0.0.1", 0), GitHubHandler)
        self.repository = repository
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self.jobs: dict[int, list[dict[str, Any]]] = {}
        self.writes: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add_comment(self, number: int, login: str, body: str) -> int:
        comment_id = 1001 + len(self.comments)
        user = {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}
        self.comments.append({"id": comment_id, "issue": number, "user": user, "body": body})
        return comment_id

    def comment(self, comment_id: int) -> dict[str, Any]:
        return next(c for c in self.comments if c["id"] == comment_id)

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        route = urllib.parse.urlsplit(path)
        parts = route.path.removeprefix(f"/repos/{self.repository}/").split("/")
        query = {k: int(v[0]) for k, v in urllib.parse.parse_qs(route.query).items()}
        answer: tuple[int, Any] = (404, {"message": "Not Found"})
        if method == "GET" and parts[0] == "pulls" and int(parts[1]) in self.pulls:
            answer = (200, self.pulls[int(parts[1])])
        elif parts[0] == "issues" and parts[1].isdigit() and method == "POST":
            self.writes.append(("create", body["body"]))
            answer = (
                201,
                {"id": self.add_comment(int(parts[1]), "github-actions[bot]", body["body"])},
            )
        elif parts[0] == "issues" and parts[1].isdigit():
            mine = [c for c in self.comments if c["issue"] == int(parts[1])]
            start = (query["page"] - 1) * query["per_page"]
            answer = (200, mine[start : start + query["per_page"]])
        elif method == "PATCH" and parts[:2] == ["issues", "comments"]:
            self.writes.append(("update", body["body"]))
            self.comment(int(parts[2]))["body"] = body["body"]
            answer = (200, self.comment(int(parts[2])))
        elif parts[:2] == ["actions", "runs"]:
            answer = (200, {"jobs": self.jobs.get(int(parts[2]), [])})
        return answer


class GitHubHandler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        status, answer = (401, {"message": "Bad credentials"})
        if self.headers.get("Authorization") == "Bearer test-token":
            status, answer = self.server.answer(self.command, self.path, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._reply()

    def do_POST(self) -> None:
        self._reply()

    def do_PATCH(self) -> None:
        self._reply()

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        return


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub("acme/churn")
    thread = threading.Thread(
        target=fake.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()
    thread.join(timeout=5)
