"""The pull request's one report comment: what it says and which comment it is.

`pr-comment` runs after every `pr-report` run (GitHub's `workflow_run`), with
the run's artifact and the event describing the run. Pure decisions, so every
case (a failed run with or without a report, a superseded run, a look-alike
comment written by someone else) is tested with plain data:

- the comment always tells the truth about the run it reports: a failed run
  says "failed", the failing steps and a link to the run, even when it never
  wrote its report;
- a run whose commit is no longer the pull request's head is superseded: it is
  skipped, so an older run never overwrites a newer report;
- the comment to update is the one starting with the report's marker AND
  written by the workflow's bot identity: anyone can type the marker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import PullRequestCommentError
from .report import GITHUB_COMMENT_LIMIT

# The identity behind GITHUB_TOKEN; a GitHub App token posts as "<app-slug>[bot]".
DEFAULT_AUTHOR = "github-actions[bot]"
TRUNCATED = "\n\n_Truncated to fit GitHub's comment limit: see the run's `pr-report` artifact._\n"


@dataclass(frozen=True)
class ReportRun:
    """The `pr-report` run being reported, from the `workflow_run` event."""

    run_id: int
    url: str
    head_sha: str
    conclusion: str
    pull_requests: tuple[int, ...]  # empty for pull requests from forks

    @property
    def failed(self) -> bool:
        """Anything but success (failure, timed out, ...) must read as failed."""
        return self.conclusion != "success"


@dataclass(frozen=True)
class Decision:
    """What to do on the pull request."""

    action: Literal["create", "update", "skip"]
    body: str
    comment_id: int | None = None
    reason: str = ""


def report_run(event: dict[str, Any]) -> ReportRun:
    """The run's facts from a `workflow_run` event payload.

    Raises:
        PullRequestCommentError: the payload is not a completed workflow_run event.
    """
    run = event.get("workflow_run")
    if not isinstance(run, dict):
        raise PullRequestCommentError("the event is not a workflow_run event (no workflow_run)")
    try:
        numbers = tuple(int(pr["number"]) for pr in run.get("pull_requests") or [])
        return ReportRun(
            run_id=int(run["id"]),
            url=str(run["html_url"]),
            head_sha=str(run["head_sha"]),
            conclusion=str(run.get("conclusion") or "unknown"),
            pull_requests=numbers,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise PullRequestCommentError(f"the workflow_run event lacks {err}") from err


def pull_request_number(uploaded: str | None, run: ReportRun) -> int:
    """The number the run uploaded first (forks too), else the one GitHub lists for it.

    Raises:
        PullRequestCommentError: neither is there, or the uploaded one is not a number.
    """
    if uploaded is not None:
        text = uploaded.strip()
        if not text.isdigit():
            raise PullRequestCommentError(f"pr-number is not a number: {text[:40]!r}")
        return int(text)
    if run.pull_requests:
        return run.pull_requests[0]
    raise PullRequestCommentError(
        "the run uploaded no pr-number and GitHub lists no pull request for it"
    )


def comment_body(
    report: str | None, marker: str, run: ReportRun, failed_steps: Sequence[str]
) -> str:
    """The comment: the run's report, headed by a failure notice whenever the run failed.

    Args:
        report: the run's reports/report.md, or None when it wrote none.
        marker: the report marker of this repository (first line of the comment).
        run: the reported run.
        failed_steps: "job > step" names of the run's failed steps (from the API).
    """
    text = report or ""
    if text.startswith(marker):
        text = text[len(marker) :].lstrip("\n")
    lines = [marker]
    if run.failed and not text.startswith("## ❌"):  # a report saying why it failed stands
        what = f" at {', '.join(f'`{s}`' for s in failed_steps)}" if failed_steps else ""
        lines += [
            f"## ❌ pr-report failed{what}",
            "",
            f"Run [{run.run_id}]({run.url}) ended with `{run.conclusion}` on "
            f"`{run.head_sha[:12]}`; its logs are in the run's `logs` artifact.",
        ]
        if text:
            lines += ["", "> The report below is what the run wrote before it stopped.", ""]
        else:
            lines += ["", "_The run stopped before writing its report._"]
    body = "\n".join([*lines, text]).rstrip("\n") + "\n"
    if len(body) > GITHUB_COMMENT_LIMIT:
        body = body[: GITHUB_COMMENT_LIMIT - len(TRUNCATED)] + TRUNCATED
    return body


def own_comment(comments: Sequence[dict[str, Any]], marker: str, author: str) -> int | None:
    """The id of the report comment: starts with the marker and was written by `author`."""
    for comment in comments:
        user = comment.get("user") or {}
        body = comment.get("body") or ""
        if user.get("login") == author and body.startswith(marker):
            return int(comment["id"])
    return None


def decide(
    run: ReportRun,
    head_sha: str,
    comments: Sequence[dict[str, Any]],
    *,
    marker: str,
    author: str,
    body: str,
) -> Decision:
    """Update the report comment, create it, or skip a superseded run."""
    if head_sha != run.head_sha:
        reason = (
            f"superseded: the pull request is at {head_sha[:12]}, this run reported "
            f"{run.head_sha[:12]}; the newer run's report will be posted"
        )
        return Decision("skip", body, reason=reason)
    existing = own_comment(comments, marker, author)
    if existing is None:
        return Decision("create", body)
    return Decision("update", body, comment_id=existing)
