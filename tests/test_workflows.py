"""Rendered GitHub workflows are valid, pinned, least-privilege, and call real make targets."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from .combinations import COMBINATIONS, combo_id
from .helpers import TEMPLATE_DIR, Renders, run
from .system_tools import needs

BIN = Path(sys.executable).parent
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", re.MULTILINE)
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
MAKE_RUN = re.compile(r"^make ([a-z][a-z-]*)$")
TARGET = re.compile(r"^([a-z][a-z-]*(?: [a-z][a-z-]*)*):", re.MULTILINE)


@pytest.fixture(scope="module")
def projects(renders: Renders) -> dict[str, Path]:
    return {combo_id(c): renders[c] for c in COMBINATIONS}


def workflow_dirs(projects: dict[str, Path]) -> list[Path]:
    return [p / ".github" / "workflows" for p in projects.values()] + [
        TEMPLATE_DIR / ".github" / "workflows"
    ]


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
    for folder in workflow_dirs(projects):
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


def action_files(folder: Path) -> list[Path]:
    """The workflows of a .github/workflows folder and the local actions beside it."""
    return sorted(folder.glob("*.yml")) + sorted((folder.parent / "actions").glob("*/action.yml"))


def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(
    projects: dict[str, Path],
) -> None:
    for folder in workflow_dirs(projects):
        for workflow in action_files(folder):
            for ref, rest in USES.findall(workflow.read_text()):
                if ref.startswith("./"):  # a local action: pinned by the repository's own commit
                    root = folder.parents[1]
                    assert (root / ref / "action.yml").is_file(), f"{workflow.name}: no {ref}"
                    continue
                assert PINNED.match(ref), f"{workflow.name}: {ref} is not pinned to a commit SHA"
                assert re.match(r"\s*# v\d", rest), (
                    f"{workflow.name}: {ref} lacks a version comment"
                )


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
        for workflow in action_files(project / ".github" / "workflows"):
            doc = yaml.safe_load(workflow.read_text())
            jobs = doc["jobs"].values() if "jobs" in doc else [doc["runs"]]
            for job in jobs:
                for step in job.get("steps", []):
                    if "run" not in step:
                        continue
                    command = step["run"].strip()
                    match = MAKE_RUN.match(command)
                    assert match, f"{workflow.name}: run step is not one make call: {command!r}"
                    assert match.group(1) in targets, f"{workflow.name}: no make target {command!r}"


def test_ci_workflow_runs_the_make_ci_targets_in_order(projects: dict[str, Path]) -> None:
    """ci.yml's main job is `make setup` then exactly `make ci`'s targets, in the same order."""
    for project in projects.values():
        doc = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
        steps = [s["run"].strip() for s in doc["jobs"]["ci"]["steps"] if "run" in s]
        match = re.search(r"^ci: ([a-z -]+?) ##", (project / "Makefile").read_text(), re.MULTILINE)
        assert match, "no ci target in the Makefile"
        assert steps == ["make setup"] + [f"make {target}" for target in match.group(1).split()]


def test_cd_jobs_share_one_setup_action(projects: dict[str, Path]) -> None:
    """Every CD job sets up the same way: checkout, then the local setup action."""
    for project in projects.values():
        doc = yaml.safe_load((project / ".github" / "workflows" / "cd.yml").read_text())
        for name, job in doc["jobs"].items():
            uses = [str(step.get("uses", "")) for step in job["steps"]]
            assert uses[0].startswith("actions/checkout@"), name
            assert uses[1] == "./.github/actions/setup", name
            runs = [step["run"] for step in job["steps"] if "run" in step]
            assert "make setup" not in runs, f"{name}: set up by the action, not by hand"
        action = project / ".github" / "actions" / "setup" / "action.yml"
        assert "{{" not in action.read_text() or "${{" not in action.read_text()


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
