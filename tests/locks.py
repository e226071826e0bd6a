"""The uv.lock each generated project starts with: the versions the template was tested with.

One lock per supported Python version lives in `{{cookiecutter.project_slug}}/locks/`
(the post-gen hook keeps the chosen version's as `uv.lock`); only the project's own
name in it is a template variable. `make locks` re-resolves them all after a
dependency change in the generated `pyproject.toml` (or to take newer versions:
`make locks UPGRADE=1`); `tests/test_locks.py` fails while they disagree with it.

    uv run python -m tests.locks [--upgrade]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from .combinations import DEFAULT, DEFAULT_NAMES, PYTHON_VERSIONS
from .helpers import TEMPLATE_DIR, cookiecutter_config, project_env, render

LOCKS = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "locks"
PROJECT_LINE = f'name = "{DEFAULT_NAMES["project_slug"]}"'
TEMPLATE_LINE = 'name = "{{ cookiecutter.project_slug }}"'


def lock_path(version: str) -> Path:
    return LOCKS / f"uv-py{version}.lock"


def uv() -> str:
    """The uv binary itself: `uv run` says which in UV. A version manager's `uv` shim
    would look for uv under the project's Python version, which may not have it."""
    return os.environ.get("UV", "uv")


def relock(version: str, work: Path, *, upgrade: bool) -> None:
    """Render the defaults for `version`, let uv resolve, keep the lock as a template."""
    config = cookiecutter_config(work / "home")
    project = render(work / version, config, **{**DEFAULT, "python_version": version})
    args = [uv(), "lock", "--quiet", *(["--upgrade"] if upgrade else [])]
    # A pyenv shim that started us pinned its own version; the project names its own.
    env = {k: v for k, v in project_env().items() if k not in ("PYENV_VERSION", "PYENV_DIR")}
    subprocess.run(args, cwd=project, env=env, check=True)
    text = (project / "uv.lock").read_text(encoding="utf-8")
    assert text.count(PROJECT_LINE) == 1, "the project's name is not once in the lock"
    lock_path(version).write_text(text.replace(PROJECT_LINE, TEMPLATE_LINE), encoding="utf-8")
    print(f"wrote {lock_path(version).relative_to(TEMPLATE_DIR)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="take the newest allowed versions")
    args = parser.parse_args()
    LOCKS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="locks-") as folder:
        for version in PYTHON_VERSIONS:
            relock(version, Path(folder), upgrade=args.upgrade)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
