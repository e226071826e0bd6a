"""GitHub's REST API for one repository, on 127.0.0.1: what the comment workflow calls.

Pull requests (open one, read its head commit), the conversation's comments
(create, list by page, update) and a workflow run's jobs. Requests without the
expected token are refused, as GitHub refuses them.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "test-token"
BOT = "github-actions[bot]"


class FakeGitHub(ThreadingHTTPServer):
    def __init__(self, repository: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.repository = repository
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self.jobs: dict[int, list[dict[str, Any]]] = {}
        self.writes: list[tuple[str, int]] = []  # ("create" | "update", comment id)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add_comment(self, number: int, login: str, body: str) -> int:
        comment_id = 5001 + len(self.comments)
        user = {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}
        self.comments.append({"id": comment_id, "issue": number, "user": user, "body": body})
        return comment_id

    def body(self, comment_id: int) -> str:
        return str(next(c for c in self.comments if c["id"] == comment_id)["body"])

    def answer(self, method: str, path: str, payload: Any) -> tuple[int, Any]:
        route = urllib.parse.urlsplit(path)
        parts = route.path.removeprefix(f"/repos/{self.repository}/").split("/")
        query = {k: int(v[0]) for k, v in urllib.parse.parse_qs(route.query).items()}
        answer: tuple[int, Any] = (404, {"message": "Not Found"})
        if method == "POST" and parts == ["pulls"]:
            number = max(self.pulls, default=0) + 1
            self.pulls[number] = {"number": number, "state": "open", **payload}
            answer = (201, self.pulls[number])
        elif method == "GET" and parts[0] == "pulls" and int(parts[1]) in self.pulls:
            answer = (200, self.pulls[int(parts[1])])
        elif parts[0] == "issues" and parts[1].isdigit() and method == "POST":
            created = self.add_comment(int(parts[1]), BOT, payload["body"])
            self.writes.append(("create", created))
            answer = (201, {"id": created})
        elif parts[0] == "issues" and parts[1].isdigit():
            mine = [c for c in self.comments if c["issue"] == int(parts[1])]
            start = (query["page"] - 1) * query["per_page"]
            answer = (200, mine[start : start + query["per_page"]])
        elif method == "PATCH" and parts[:2] == ["issues", "comments"]:
            comment = next(c for c in self.comments if c["id"] == int(parts[2]))
            comment["body"] = payload["body"]
            self.writes.append(("update", comment["id"]))
            answer = (200, comment)
        elif parts[:2] == ["actions", "runs"]:
            answer = (200, {"jobs": self.jobs.get(int(parts[2]), [])})
        return answer


class _Handler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length)) if length else None
        status, answer = 401, {"message": "Bad credentials"}
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            status, answer = self.server.answer(self.command, self.path, payload)
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

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
        return


@contextmanager
def fake_github(repository: str) -> Iterator[FakeGitHub]:
    server = FakeGitHub(repository)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
