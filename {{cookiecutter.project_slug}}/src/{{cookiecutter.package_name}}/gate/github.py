"""The few GitHub REST calls the report comment needs (standard library only).

GITHUB_API_URL picks the API (GitHub Actions sets it, also on GitHub Enterprise),
so tests point it at a fake server on 127.0.0.1.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..errors import PullRequestCommentError

DEFAULT_API_URL = "https://api.github.com"
TIMEOUT_SECONDS = 20.0
PAGE_SIZE = 100


class GitHub:
    """One repository's pull requests, comments and workflow runs, with a token."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        """Check the inputs once; every call then names what it was doing when it fails."""
        if urllib.parse.urlsplit(api_url).scheme not in {"http", "https"}:
            raise PullRequestCommentError(f"GITHUB_API_URL is not an HTTP URL: {api_url!r}")
        if repository.count("/") != 1:
            raise PullRequestCommentError(f"GITHUB_REPOSITORY is not owner/name: {repository!r}")
        if not token:
            raise PullRequestCommentError("GITHUB_TOKEN is not set")
        self._base = f"{api_url.rstrip('/')}/repos/{repository}"
        self._token = token

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(f"{self._base}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("User-Agent", "mlops-pr-comment")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                body = response.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", errors="replace")[:200]
            raise PullRequestCommentError(
                f"GitHub API {method} {path} answered {err.code}: {detail}"
            ) from err
        except (urllib.error.URLError, OSError) as err:
            raise PullRequestCommentError(f"GitHub API {method} {path} failed: {err}") from err
        return json.loads(body) if body else None

    def pull_request(self, number: int) -> dict[str, Any]:
        """The pull request (its head SHA says whether a run is still current)."""
        found = self._call("GET", f"/pulls/{number}")
        if not isinstance(found, dict):
            raise PullRequestCommentError(f"GitHub API returned no pull request #{number}")
        return found

    def comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment of the pull request's conversation, page after page."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._call("GET", f"/issues/{number}/comments?per_page={PAGE_SIZE}&page={page}")
            if not isinstance(batch, list):
                raise PullRequestCommentError(f"GitHub API returned no comment list for #{number}")
            found += batch
            if len(batch) < PAGE_SIZE:
                return found
            page += 1

    def create_comment(self, number: int, body: str) -> int:
        """Post a new comment; its id."""
        created = self._call("POST", f"/issues/{number}/comments", {"body": body})
        return int(created["id"])

    def update_comment(self, comment_id: int, body: str) -> None:
        """Replace a comment's body."""
        self._call("PATCH", f"/issues/comments/{comment_id}", {"body": body})

    def failed_steps(self, run_id: int) -> list[str]:
        """Each failed step of a workflow run as "job > step" (or a failed job's name)."""
        jobs = self._call("GET", f"/actions/runs/{run_id}/jobs?per_page={PAGE_SIZE}")
        names = []
        for job in (jobs or {}).get("jobs", []):
            if job.get("conclusion") not in {"failure", "timed_out"}:
                continue
            steps = [
                s["name"]
                for s in job.get("steps") or []
                if s.get("conclusion") in {"failure", "timed_out"}
            ]
            names += [f"{job['name']} > {step}" for step in steps] or [str(job["name"])]
        return names
