"""Render every tested combination and check what lands on disk."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from . import manifest
from .combinations import CHOICES, COMBINATIONS, DEFAULT, NAMED, combo_id, package_of, slug_of
from .helpers import TEMPLATE_DIR, Renders, project_files, render

TEMPLATE_ROOT = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
LEFTOVER = re.compile(r"\{\{|\{%|cookiecutter\.")

REQUIRED_TOP_LEVEL = {
    ".github",
    "src",
    "tests",
    "data_tests",
    "model_tests",
    "infra",
    "Dockerfile",
    "Makefile",
    "pyproject.toml",
    "README.md",
    ".pre-commit-config.yaml",
    ".gitignore",
    ".dockerignore",
    "config",
    "data",
}
LICENSE_MARKERS = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "BSD 3-Clause",
}


def test_manifest_is_well_formed_and_in_canonical_form() -> None:
    """Parsable, no duplicates, sorted: what `python -m tests.manifest --write` would write."""
    text = manifest.MANIFEST.read_text(encoding="utf-8")
    assert manifest.format_manifest(manifest.parse(text)) == text, (
        f"{manifest.MANIFEST.name} is not in canonical form: {manifest.COMMANDS}"
    )


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
def test_exact_file_set(renders: Renders, combo: dict[str, str]) -> None:
    project = renders[combo]
    actual = project_files(project)
    expected = manifest.expected_files(combo, package_of(combo))
    assert actual == expected, manifest.mismatch(actual, expected)
    top = {p.name for p in project.iterdir()}
    assert top >= REQUIRED_TOP_LEVEL
    assert (project / "src" / package_of(combo) / "cli.py").is_file()


# The default answers' names, however spelled: Churn Prediction, churn-prediction, churn_prediction.
DEFAULT_NAME = re.compile(r"churn[ _-]prediction", re.IGNORECASE)


def test_other_names_leave_no_trace_of_the_default_ones(renders: Renders) -> None:
    """With other answers, no file (code, Makefile, workflows, compose, infra, README,
    config) names the default project or package: everything derives from the answers."""
    project = renders[NAMED]
    assert project.name == slug_of(NAMED)
    offenders = []
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [
            f"{path.relative_to(project)}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), 1)
            if DEFAULT_NAME.search(line)
        ]
    assert offenders == [], "\n".join(offenders)


@pytest.mark.parametrize("combo", [DEFAULT, NAMED], ids=combo_id)
def test_ruff_passes_right_after_rendering(renders: Renders, combo: dict[str, str]) -> None:
    """The lint half of `make ci` in seconds: a long package name must not push a line
    past the limit (the slow `make ci` of these combinations says so minutes later)."""
    ruff = shutil.which("ruff")
    assert ruff, "ruff is missing: `make setup` installs the template's test tooling"
    project = renders[combo]
    for command in (["check", "--output-format", "concise"], ["format", "--check"]):
        arguments = [ruff, *command, "--no-cache", "."]
        result = subprocess.run(arguments, cwd=project, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"ruff {command[0]}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
def test_no_template_syntax_left(renders: Renders, combo: dict[str, str]) -> None:
    project = renders[combo]
    offenders = []
    for path in project.rglob("*"):
        if not path.is_file() or path.suffix == ".csv":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if LEFTOVER.search(GITHUB_EXPRESSION.sub("", text)):
            offenders.append(path.relative_to(project).as_posix())
    assert offenders == []


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
def test_python_version_reaches_every_file_that_depends_on_it(
    renders: Renders, combo: dict[str, str]
) -> None:
    project = renders[combo]
    version = combo["python_version"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["mypy"]["python_version"] == version
    assert pyproject["tool"]["ruff"]["target-version"] == f"py{version.replace('.', '')}"
    assert (project / ".python-version").read_text().strip() == version
    dockerfile = (project / "Dockerfile").read_text()
    assert f"ARG PYTHON_IMAGE=python:{version}-slim-bookworm" in dockerfile
    # Every workflow job sets Python up through the one setup action, from .python-version.
    setup = (project / ".github" / "actions" / "setup-project" / "action.yml").read_text()
    assert "python-version-file: .python-version" in setup


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
def test_license_and_metadata(renders: Renders, combo: dict[str, str]) -> None:
    project = renders[combo]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    if combo["license"] == "none":
        assert not (project / "LICENSE").exists()
        assert "license" not in pyproject["project"]
    else:
        assert pyproject["project"]["license"] == combo["license"]
        text = (project / "LICENSE").read_text()
        assert LICENSE_MARKERS[combo["license"]] in text
    assert not (project / "licenses").exists()
    assert (project / "data" / "LICENSE-telco-Apache-2.0.txt").is_file()
    assert "IBM" in (project / "data" / "README.md").read_text()


def test_every_license_choice_has_its_text_and_marker() -> None:
    """The post-gen hook copies licenses/<choice>.txt; 'none' is the only choice without one."""
    texts = {p.stem for p in (TEMPLATE_ROOT / "licenses").glob("*.txt")}
    assert "none" in CHOICES["license"]
    assert texts == set(CHOICES["license"]) - {"none"} == set(LICENSE_MARKERS)


def test_sample_data_is_copied_byte_for_byte(renders: Renders) -> None:
    project = renders[COMBINATIONS[0]]
    shipped = TEMPLATE_ROOT / "data" / "raw" / "telco_customer_churn.csv"
    rendered = project / "data" / "raw" / "telco_customer_churn.csv"
    assert rendered.read_bytes() == shipped.read_bytes()


def test_user_strings_with_quotes_stay_valid_toml(tmp_path: Path) -> None:
    project = render(
        tmp_path,
        project_name="Churn Prediction",
        description='Predicts "churn" \\ with quotes',
        author_name="Zoë O'Brien",
    )
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == 'Predicts "churn" \\ with quotes'
    assert pyproject["project"]["authors"][0]["name"] == "Zoë O'Brien"


def test_custom_names_flow_everywhere(tmp_path: Path) -> None:
    project = render(tmp_path, project_name="Fraud Radar", package_name="radar")
    assert project.name == "fraud-radar"
    actual = project_files(project)
    expected = manifest.expected_files(DEFAULT, "radar")
    assert actual == expected, manifest.mismatch(actual, expected)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "fraud-radar"
    assert pyproject["project"]["scripts"] == {"radar": "radar.cli:main"}
    assert (project / "src" / "radar" / "cli.py").is_file()
    assert "PACKAGE := radar" in (project / "Makefile").read_text()


@pytest.mark.parametrize("combo", COMBINATIONS, ids=combo_id)
def test_cd_workflow_matches_cloud_and_registry(renders: Renders, combo: dict[str, str]) -> None:
    cd = (renders[combo] / ".github" / "workflows" / "cd.yml").read_text()
    if combo["cloud"] == "none":
        assert "aws" not in cd.lower()
        assert "environment:" not in cd
        assert "ghcr.io" in cd
    else:
        assert "role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}" in cd
        assert "id-token: write" in cd
        assert "environment: production" in cd
        assert ("amazon-ecr-login" in cd) == (combo["registry"] == "ecr")
        assert ("ghcr.io" in cd) == (combo["registry"] == "ghcr")
