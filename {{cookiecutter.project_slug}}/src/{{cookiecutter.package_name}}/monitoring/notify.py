"""Tell people when drift is detected: a Slack message and/or a GitHub issue.

Off by default; each channel turns on when its environment variables are set:
- Slack: MLOPS_SLACK_WEBHOOK_URL (an incoming-webhook URL);
- GitHub: MLOPS_GITHUB_ISSUE_REPO ("owner/name") and GITHUB_TOKEN (issues: write).
  GITHUB_API_URL (set by GitHub Actions, also for GitHub Enterprise) picks the API.
A scheduled drift job then opens one issue labelled `drift` and comments on it
while it stays open, instead of opening a new issue every day. Standard library
only; a failed delivery is reported, never fatal: the drift verdict stands.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SLACK_URL_ENV = "MLOPS_SLACK_WEBHOOK_URL"
GITHUB_REPO_ENV = "MLOPS_GITHUB_ISSUE_REPO"
GITHUB_TOKEN_ENV = "GITHUB_TOKEN"
GITHUB_API_ENV = "GITHUB_API_URL"
DEFAULT_GITHUB_API = "https://api.github.com"
ISSUE_LABEL = "drift"
TIMEOUT_SECONDS = 10.0
_SLACK_MAX_CHARS = 3000


@dataclass(frozen=True)
class Delivery:
    """What happened to one notification."""

    channel: str
    ok: bool
    detail: str


def _request(
    method: str, url: str, payload: Any = None, headers: Mapping[str, str] | None = None
) -> Any:
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError(f"refusing a non-HTTP URL: {url!r}")
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)  # scheme checked above
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", "mlops-drift-notifier")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        body = response.read()
    if not body:
        return None
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return body.decode("utf-8", errors="replace")


def send_slack(webhook_url: str, title: str, body: str) -> Delivery:
    """Post the title and (shortened) summary to a Slack incoming webhook."""
    text = f"*{title}*\n{body}"[:_SLACK_MAX_CHARS]
    try:
        _request("POST", webhook_url, {"text": text})
    except (urllib.error.URLError, OSError, ValueError) as err:
        return Delivery("slack", False, f"Slack webhook failed: {err}")
    return Delivery("slack", True, "Slack message sent")


def open_or_update_issue(api_url: str, repo: str, token: str, title: str, body: str) -> Delivery:
    """Comment on the open `drift` issue of the repository, or open one."""
    base = f"{api_url.rstrip('/')}/repos/{repo}"
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    try:
        query = urllib.parse.urlencode({"state": "open", "labels": ISSUE_LABEL, "per_page": 1})
        existing = _request("GET", f"{base}/issues?{query}", headers=headers)
        if isinstance(existing, list) and existing:
            number = existing[0]["number"]
            _request(
                "POST",
                f"{base}/issues/{number}/comments",
                {"body": f"## {title}\n\n{body}"},
                headers,
            )
            return Delivery("github", True, f"commented on {repo}#{number}")
        created = _request(
            "POST",
            f"{base}/issues",
            {"title": title, "body": body, "labels": [ISSUE_LABEL]},
            headers,
        )
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as err:
        return Delivery("github", False, f"GitHub issue failed: {err}")
    number = created.get("number") if isinstance(created, dict) else None
    return Delivery("github", True, f"opened {repo}#{number}")


def notify(title: str, body: str, env: Mapping[str, str]) -> list[Delivery]:
    """Send to every channel configured in `env`; an empty list means none is."""
    deliveries = []
    webhook = env.get(SLACK_URL_ENV, "").strip()
    if webhook:
        deliveries.append(send_slack(webhook, title, body))
    repo = env.get(GITHUB_REPO_ENV, "").strip()
    if repo:
        token = env.get(GITHUB_TOKEN_ENV, "").strip()
        if not token:
            deliveries.append(
                Delivery("github", False, f"{GITHUB_REPO_ENV} is set but {GITHUB_TOKEN_ENV} is not")
            )
        else:
            api = env.get(GITHUB_API_ENV, "").strip() or DEFAULT_GITHUB_API
            deliveries.append(open_or_update_issue(api, repo, token, title, body))
    return deliveries
