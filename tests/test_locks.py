"""A generated project installs the versions the template was tested with, on every Python.

Each rendered project starts with the uv.lock of its Python version
(`{{cookiecutter.project_slug}}/locks/`, rewritten by `make locks`); `make setup`
installs from it and CI with --locked. These tests fail when a lock no longer
matches the generated pyproject.toml (a dependency changed without `make locks`),
and when the pinned uv version differs between the template, the project and
the Dockerfile.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from .combinations import COMBINATIONS, NAMED, PYTHON_VERSIONS, combo_id
from .helpers import TEMPLATE_DIR, Renders, project_env, run

# One combination per Python version, and the one with other names (the lock names the project).
LOCKED = [*{c["python_version"]: c for c in COMBINATIONS}.values(), NAMED]


@pytest.mark.parametrize("combo", LOCKED, ids=combo_id)
def test_the_shipped_lock_matches_the_project(renders: Renders, combo: dict[str, str]) -> None:
    project = renders[combo]
    assert not (project / "locks").exists()
    lock = tomllib.loads((project / "uv.lock").read_text())
    assert lock["requires-python"] == f">={combo['python_version']}"
    env = {k: v for k, v in project_env().items() if k not in ("PYENV_VERSION", "PYENV_DIR")}
    result = run(["uv", "lock", "--check"], cwd=project, env=env, check=False, timeout=300)
    assert result.returncode == 0, (
        f"{combo_id(combo)}: uv.lock no longer matches pyproject.toml; run `make locks`\n"
        f"{result.stdout}{result.stderr}"
    )


def test_there_is_one_lock_per_python_version() -> None:
    locks = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "locks"
    assert sorted(p.name for p in locks.iterdir()) == [f"uv-py{v}.lock" for v in PYTHON_VERSIONS]


def test_uv_is_pinned_to_one_version_everywhere() -> None:
    template = tomllib.loads((TEMPLATE_DIR / "pyproject.toml").read_text())
    pinned = template["tool"]["uv"]["required-version"]
    assert re.fullmatch(r"==\d+\.\d+\.\d+", pinned)
    project = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
    generated = (project / "pyproject.toml").read_text()
    assert f'required-version = "{pinned}"' in generated
    assert f"ARG UV_VERSION={pinned[2:]}\n" in (project / "Dockerfile").read_text()
