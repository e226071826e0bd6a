"""Rendered GitHub workflows are valid, pinned, least-privilege, and call real make targets.

The composite action every CI job sets itself up with (`.github/actions/setup-project`)
is held to the same rules.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .combinations import COMBINATIONS, combo_id
from .helpers import TEMPLATE_DIR, Renders, make, run
from .system_tools import needs

BIN = Path(sys.executable).parent
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", re.MULTILINE)
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
SETUP_ACTION = "./.github/actions/setup-project"
MAKE_RUN = re.compile(r"^make ([a-z][a-z-]*)$")
TARGET = re.compile(r"^([a-z][a-z-]*(?: [a-z][a-z-]*)*):", re.MULTILINE)


@pytest.fixture(scope="module")
def projects(renders: Renders) -> dict[str, Path]:
    return {combo_id(c): renders[c] for c in COMBINATIONS}


def workflow_dirs(projects: dict[str, Path]) -> list[Path]:
    return [p / ".github" / "workflows" for p in projects.values()] + [
        TEMPLATE_DIR / ".github" / "workflows"
    ]


def action_files(projects: dict[str, Path]) -> list[Path]:
    """The composite actions of every rendered project."""
    return [a for p in projects.values() for a in sorted(p.glob(".github/actions/*/action.yml"))]


def jobs(project: Path, workflow: str) -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((project / ".github" / "workflows" / workflow).read_text())
    return dict(doc["jobs"])


@needs("shellcheck")
def test_actionlint_with_shellcheck(projects: dict[str, Path]) -> None:
    for folder in workflow_dirs(projects):
        result = run(
            [
                BIN / "actionlint",
                "-shellcheck",
                shutil.which("shellcheck") or "",
                *sorted(folder.glob("*.yml")),
            ],
            check=False,
        )
        assert result.returncode == 0, f"{folder}:\n{result.stdout}{result.stderr}"


def test_zizmor_offline_has_no_findings(projects: dict[str, Path]) -> None:
    actions = {a.parent.parent for a in action_files(projects)}
    for folder in [*workflow_dirs(projects), *sorted(actions)]:
        result = run([BIN / "zizmor", "--offline", "--no-progress", folder], check=False)
        assert result.returncode == 0, f"{folder}:\n{result.stdout}{result.stderr}"
        assert "No findings to report" in result.stdout + result.stderr


def test_github_workflow_schema(projects: dict[str, Path]) -> None:
    for folder in workflow_dirs(projects):
        files = sorted(folder.glob("*.yml"))
        result = run(
            [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files],
            check=False,
        )
        assert result.returncode == 0, f"{folder}:\n{result.stdout}{result.stderr}"
    actions = action_files(projects)
    assert actions, "no composite action rendered"
    result = run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-actions", *actions],
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"


def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(
    projects: dict[str, Path],
) -> None:
    files = [w for folder in workflow_dirs(projects) for w in folder.glob("*.yml")]
    for workflow in [*files, *action_files(projects)]:
        for ref, rest in USES.findall(workflow.read_text()):
            if ref.startswith("./.github/actions/"):  # this repository's own action
                assert (workflow.parents[2] / ref / "action.yml").is_file(), ref
                continue
            assert PINNED.match(ref), f"{workflow.name}: {ref} is not pinned to a commit SHA"
            assert re.match(r"\s*# v\d", rest), f"{workflow.name}: {ref} lacks a version comment"


def test_hardening(projects: dict[str, Path]) -> None:
    for folder in workflow_dirs(projects):
        for workflow in folder.glob("*.yml"):
            doc = yaml.safe_load(workflow.read_text())
            triggers = doc.get(True, doc.get("on"))  # PyYAML reads `on:` as True
            assert "pull_request_target" not in triggers, workflow
            assert doc.get("permissions") in ({}, {"contents": "read"}), workflow
            for name, job in doc["jobs"].items():
                assert "timeout-minutes" in job, f"{workflow.name}:{name}"
                for step in job.get("steps", []):
                    if str(step.get("uses", "")).startswith("actions/checkout@"):
                        assert step["with"]["persist-credentials"] is False


def test_run_steps_call_existing_make_targets(projects: dict[str, Path]) -> None:
    for project in projects.values():
        targets = {
            name
            for group in TARGET.findall((project / "Makefile").read_text())
            for name in group.split()
        }
        step_lists = {
            w.name: [s for job in jobs(project, w.name).values() for s in job.get("steps", [])]
            for w in (project / ".github" / "workflows").glob("*.yml")
        }
        for action in project.glob(".github/actions/*/action.yml"):
            step_lists[action.parent.name] = yaml.safe_load(action.read_text())["runs"]["steps"]
        for name, steps in step_lists.items():
            for step in steps:
                if "run" not in step:
                    continue
                command = step["run"].strip()
                match = MAKE_RUN.match(command)
                assert match, f"{name}: run step is not one make call: {command!r}"
                assert match.group(1) in targets, f"{name}: no make target {command!r}"


@needs("make")
def test_ci_workflow_runs_the_make_ci_targets_in_order(projects: dict[str, Path]) -> None:
    """ci.yml's main job sets up, then runs exactly `make ci`'s targets in the same order.

    After them it only keeps the model as the next baseline (on a push to main).
    """
    for project in projects.values():
        steps = jobs(project, "ci.yml")["ci"]["steps"]
        setup = [i for i, s in enumerate(steps) if s.get("uses") == SETUP_ACTION]
        runs = [s["run"].strip() for s in steps[setup[0] :] if "run" in s]
        targets = make(project, "--no-print-directory", "-s", "ci-targets").stdout.split()
        assert targets[:3] == ["lint", "typecheck", "test"], targets
        ci = [f"make {target}" for target in targets]
        assert runs[: len(ci)] == ci
        assert runs[len(ci) :] == ["make baseline"]


def test_every_ci_job_sets_up_with_the_one_action(projects: dict[str, Path]) -> None:
    """ci, pr-report and pr-comment jobs all use setup-project, and nothing else sets up.

    The uv cache is on in pull-request and push CI (`cache: "true"`), never where a
    write token is held (pr-comment).
    """
    for project in projects.values():
        for workflow in ("ci.yml", "pr-report.yml", "pr-comment.yml"):
            for name, job in jobs(project, workflow).items():
                steps = job.get("steps", [])
                setups = [s for s in steps if s.get("uses") == SETUP_ACTION]
                assert len(setups) == 1, f"{workflow}:{name} does not use {SETUP_ACTION} once"
                uses = " ".join(str(s.get("uses", "")) for s in steps)
                assert "setup-python" not in uses and "setup-uv" not in uses, f"{workflow}:{name}"
                assert not any(s.get("run", "").strip() == "make setup" for s in steps)
                cache = setups[0].get("with", {}).get("cache", "false")
                assert cache == ("false" if workflow == "pr-comment.yml" else "true"), workflow


def test_superseded_runs_are_cancelled_and_comments_queue_per_pull_request(
    projects: dict[str, Path],
) -> None:
    for project in projects.values():
        folder = project / ".github" / "workflows"
        docs = {w: yaml.safe_load((folder / w).read_text()) for w in ("ci.yml", "pr-report.yml")}
        assert docs["ci.yml"]["concurrency"]["cancel-in-progress"] == (
            "${{ github.event_name == 'pull_request' }}"
        )
        assert docs["pr-report.yml"]["concurrency"]["cancel-in-progress"] is True
        comment = yaml.safe_load((folder / "pr-comment.yml").read_text())
        group = comment["concurrency"]["group"]
        assert "workflow_run.head_repository.full_name" in group
        assert "workflow_run.head_branch" in group
        assert comment["concurrency"]["cancel-in-progress"] is False


def test_pr_report_uploads_the_number_first_and_always_reports(
    projects: dict[str, Path],
) -> None:
    for project in projects.values():
        steps = jobs(project, "pr-report.yml")["report"]["steps"]
        names = [s.get("run", "").strip() or str(s.get("uses", "")).split("@")[0] for s in steps]
        first_upload = names.index("actions/upload-artifact")
        assert names.index("make pr-number") < first_upload < names.index(SETUP_ACTION)
        assert steps[first_upload]["with"]["path"] == "reports/pr-number"
        report = steps[names.index("make report")]
        assert report["if"] == "${{ !cancelled() }}"
        assert report["env"]["CI_STEPS_JSON"] == "${{ toJSON(steps) }}"
        ids = {s.get("id") for s in steps}
        assert {"train", "reproduce-check", "compare"} <= ids  # named as their make targets
        assert any(s.get("if") == "failure()" for s in steps), "no log upload on failure"


def test_cd_jobs_share_one_setup_action(projects: dict[str, Path]) -> None:
    """Every CD job sets up the same way: checkout, then the local setup action."""
    for project in projects.values():
        doc = yaml.safe_load((project / ".github" / "workflows" / "cd.yml").read_text())
        for name, job in doc["jobs"].items():
            uses = [str(step.get("uses", "")) for step in job["steps"]]
            assert uses[0].startswith("actions/checkout@"), name
            assert uses[1] == SETUP_ACTION, name
            runs = [step["run"] for step in job["steps"] if "run" in step]
            assert "make setup" not in runs, f"{name}: set up by the action, not by hand"
        action = project / ".github" / "actions" / "setup-project" / "action.yml"
        assert not re.search(r"(?<!\$)\{\{", action.read_text()), "Jinja left in the action"


def test_cd_builds_smoke_tests_then_pushes_by_digest(projects: dict[str, Path]) -> None:
    for project in projects.values():
        doc = yaml.safe_load((project / ".github" / "workflows" / "cd.yml").read_text())
        build = doc["jobs"]["build"]
        runs = [step["run"] for step in build["steps"] if "run" in step]
        assert (
            runs.index("make image")
            < runs.index("make image-smoke")
            < runs.index("make image-push")
        )
        assert build["outputs"]["image"] == "${{ steps.push.outputs.image }}"
        assert doc["env"]["UV_COMPILE_BYTECODE"] == "0"


def test_aws_cd_says_which_variables_are_missing_before_anything_else(
    projects: dict[str, Path],
) -> None:
    for combo, project in projects.items():
        if "-aws-" not in combo:
            continue
        doc = yaml.safe_load((project / ".github" / "workflows" / "cd.yml").read_text())
        for name, job in doc["jobs"].items():
            steps = [s for s in job["steps"] if "run" in s]
            assert steps[0]["run"] == "make aws-check", name
            required = steps[0]["env"]["REQUIRED_VARIABLES"].split()
            assert "AWS_REGION" in required
            for variable in required:
                assert steps[0]["env"][variable] == f"${{{{ vars.{variable} }}}}"
