"""Projects made with cruft stay linked to the template and take its updates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .helpers import TEMPLATE_DIR, git, run
from .system_tools import needs

IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "__pycache__", ".pytest_cache", ".ruff_cache"
)
# What the pre-gen hook prints when it cannot read the template's choices.
CHOICES_NOT_FOUND = "cookiecutter.json was not found"


def cruft(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(["cruft", *args], cwd=cwd, check=False)


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A git copy of the template as it is on disk now (committed or not)."""
    repo = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, repo, ignore=IGNORED)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "template v1")
    return repo


@needs("git")
def test_cruft_create_check_and_update(tmp_path: Path, template_repo: Path) -> None:
    out = tmp_path / "projects"
    out.mkdir()
    created = cruft(out, "create", str(template_repo), "--no-input", "--output-dir", str(out))
    assert created.returncode == 0, created.stderr
    # cruft renders from its own clone and gives the hook no `_repo_dir`: it still finds it.
    assert CHOICES_NOT_FOUND not in created.stderr
    project = out / "churn-prediction"
    assert (project / ".cruft.json").is_file()
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "generated")

    checked = cruft(project, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    readme = template_repo / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\n## Added by a template update\n")
    git(template_repo, "commit", "-q", "-am", "template v2")

    stale = cruft(project, "check")
    assert stale.returncode != 0

    updated = cruft(project, "update", "--skip-apply-ask", "--allow-untracked-files")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert CHOICES_NOT_FOUND not in updated.stderr
    assert "## Added by a template update" in (project / "README.md").read_text()
    assert not list(project.rglob("*.rej"))
    assert cruft(project, "check").returncode == 0
