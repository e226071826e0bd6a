"""The pull request's one report comment is never stale, never doubled, never someone else's.

The decisions are tested on plain data; `pr-comment` itself runs against a fake
GitHub API on 127.0.0.1, as the `pr-comment` workflow runs it: the workflow_run
event in GITHUB_EVENT_PATH, the downloaded artifact in a folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.errors import PullRequestCommentError
from {{ cookiecutter.package_name }}.gate.comment import (
    DEFAULT_AUTHOR,
    ReportRun,
    comment_body,
    decide,
    own_comment,
    pull_request_number,
    report_run,
)
from {{ cookiecutter.package_name }}.gate.report import GITHUB_COMMENT_LIMIT, report_marker

from .conftest import FakeGitHub

MARKER = report_marker("acme/churn")
HEAD = "a" * 40
PASSED = f"{MARKER}\n## ✅ Model gate passed against origin/main:metrics/metrics.json\n"
FAILED = f"{MARKER}\n## ❌ pr-report failed at `make reproduce-check`\n\nroc_auc differs\n"


def event(conclusion: str = "success", pull_requests: list[int] | None = None) -> dict[str, Any]:
    return {
        "workflow_run": {
            "id": 77,
            "html_url": "https://github.com/acme/churn/actions/runs/77",
            "head_sha": HEAD,
            "conclusion": conclusion,
            "pull_requests": [{"number": n} for n in pull_requests or []],
        }
    }


def test_a_failed_run_without_a_report_says_failed_with_steps_and_link() -> None:
    run = report_run(event("failure"))
    body = comment_body(None, MARKER, run, ["report > Set up the project"])
    assert body.startswith(f"{MARKER}\n## ❌ pr-report failed at `report > Set up the project`")
    assert "(https://github.com/acme/churn/actions/runs/77)" in body
    assert "stopped before writing its report" in body


def test_a_failed_run_keeps_the_report_that_says_why() -> None:
    body = comment_body(FAILED, MARKER, report_run(event("failure")), ["report > reproduce"])
    assert body == FAILED


def test_a_report_saying_passed_from_a_failed_run_is_headed_failed() -> None:
    body = comment_body(PASSED, MARKER, report_run(event("failure")), ["report > upload"])
    assert body.startswith(f"{MARKER}\n## ❌ pr-report failed at `report > upload`")
    assert "## ✅ Model gate passed" in body  # what the run wrote, below the notice
    assert body.count(MARKER) == 1


def test_a_passing_run_posts_its_report_within_githubs_limit() -> None:
    run = report_run(event())
    assert comment_body(PASSED, MARKER, run, []) == PASSED
    huge = comment_body(PASSED + "x" * GITHUB_COMMENT_LIMIT, MARKER, run, [])
    assert len(huge) <= GITHUB_COMMENT_LIMIT
    assert "Truncated" in huge


def test_the_uploaded_number_wins_and_forks_need_it() -> None:
    assert pull_request_number("12\n", report_run(event(pull_requests=[3]))) == 12
    assert pull_request_number(None, report_run(event(pull_requests=[3]))) == 3
    with pytest.raises(PullRequestCommentError, match="no pr-number"):
        pull_request_number(None, report_run(event()))  # a fork: GitHub lists none
    with pytest.raises(PullRequestCommentError, match="not a number"):
        pull_request_number("12; rm -rf /", report_run(event()))


def test_only_the_bots_comment_with_the_marker_is_ours() -> None:
    comments = [
        {"id": 1, "user": {"login": "mallory"}, "body": f"{MARKER}\n## ✅ all good"},
        {"id": 2, "user": {"login": DEFAULT_AUTHOR}, "body": "a bot comment without marker"},
        {"id": 3, "user": {"login": DEFAULT_AUTHOR}, "body": PASSED},
    ]
    assert own_comment(comments, MARKER, DEFAULT_AUTHOR) == 3
    assert own_comment(comments[:2], MARKER, DEFAULT_AUTHOR) is None


def test_a_superseded_run_is_skipped() -> None:
    run = ReportRun(77, "https://run", HEAD, "failure", ())
    decision = decide(run, "b" * 40, [], marker=MARKER, author=DEFAULT_AUTHOR, body=FAILED)
    assert decision.action == "skip"
    assert "superseded" in decision.reason


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    folder = tmp_path / "pr-report"
    folder.mkdir()
    (folder / "pr-number").write_text("7\n")
    return folder


def pr_comment(
    tmp_path: Path, github: FakeGitHub, artifact: Path, monkeypatch: pytest.MonkeyPatch, **run: Any
) -> int:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event(**run)))
    for name, value in {
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "acme/churn",
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": "test-token",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }.items():
        monkeypatch.setenv(name, value)
    return main(["pr-comment", "--artifact", str(artifact)])


def test_a_failed_reproduce_check_updates_the_passed_comment_to_failed(
    tmp_path: Path, artifact: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    github.pulls[7] = {"number": 7, "head": {"sha": HEAD}}
    look_alike = github.add_comment(7, "mallory", PASSED)
    ours = github.add_comment(7, DEFAULT_AUTHOR, PASSED)
    (artifact / "report.md").write_text(FAILED)
    assert pr_comment(tmp_path, github, artifact, monkeypatch, conclusion="failure") == 0
    assert github.writes == [("update", FAILED)]
    assert github.comment(ours)["body"] == FAILED
    assert github.comment(look_alike)["body"] == PASSED
    assert "updated comment" in (tmp_path / "summary.md").read_text()


def test_a_run_that_failed_before_its_report_still_reaches_the_pull_request(
    tmp_path: Path, artifact: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    github.pulls[7] = {"number": 7, "head": {"sha": HEAD}}
    github.jobs[77] = [
        {
            "name": "report",
            "conclusion": "failure",
            "steps": [
                {"name": "Check out", "conclusion": "success"},
                {"name": "Set up the project", "conclusion": "failure"},
            ],
        }
    ]
    assert pr_comment(tmp_path, github, artifact, monkeypatch, conclusion="failure") == 0
    ((action, body),) = github.writes
    assert action == "create"
    assert body.startswith(f"{MARKER}\n## ❌ pr-report failed at `report > Set up the project`")


def test_a_superseded_run_writes_nothing_and_succeeds(
    tmp_path: Path,
    artifact: Path,
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    github.pulls[7] = {"number": 7, "head": {"sha": "b" * 40}}
    (artifact / "report.md").write_text(PASSED)
    assert pr_comment(tmp_path, github, artifact, monkeypatch) == 0
    assert github.writes == []
    assert "skipped, superseded" in capsys.readouterr().out


def test_an_api_refusal_is_one_clear_line(
    tmp_path: Path,
    artifact: Path,
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert pr_comment(tmp_path, github, artifact, monkeypatch) == 1  # PR #7 does not exist
    err = capsys.readouterr().err
    assert "GitHub API GET /pulls/7 answered 404" in err
    assert "Traceback" not in err


def test_the_comment_path_needs_only_the_base_dependencies() -> None:
    """The pr-comment job installs no dependency group: nothing it imports may need one."""
    code = (
        "import sys, {{ cookiecutter.package_name }}.cli, "
        "{{ cookiecutter.package_name }}.gate.comment, "
        "{{ cookiecutter.package_name }}.gate.github, "
        "{{ cookiecutter.package_name }}.gate.report; "
        "print(sorted(m for m in ('numpy', 'pandas', 'sklearn', 'mlflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
