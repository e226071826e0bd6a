"""Remove the optional parts that the answers did not choose.

The template renders every optional part and this hook deletes the unchosen
ones, so the template stays plain files instead of Jinja branches. The hook is
idempotent (deleting what is already gone is fine) because `cruft update`
re-runs it on a fresh render.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CLOUD = "{{ cookiecutter.cloud }}"
REGISTRY = "{{ cookiecutter.registry }}"
LICENSE = "{{ cookiecutter.license }}"
PYTHON_VERSION = "{{ cookiecutter.python_version }}"
NO_LICENSE = "none"


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def choose_license(root: Path) -> None:
    """licenses/<license>.txt becomes LICENSE (no LICENSE for 'none'); the texts go."""
    texts = root / "licenses"
    chosen = texts / f"{LICENSE}.txt"
    if LICENSE != NO_LICENSE and chosen.is_file():
        shutil.copyfile(chosen, root / "LICENSE")
    remove(texts)


def prune_cloud(root: Path) -> None:
    if CLOUD != "aws":
        remove(root / "infra" / "aws")


def choose_cd_workflow(root: Path) -> None:
    """Keep one CD workflow, named cd.yml: what main ships depends on cloud and registry."""
    workflows = root / ".github" / "workflows"
    chosen = workflows / (f"cd-aws-{REGISTRY}.yml" if CLOUD == "aws" else "cd-image-only.yml")
    if chosen.exists():
        shutil.move(chosen, workflows / "cd.yml")
    for variant in workflows.glob("cd-*.yml"):
        remove(variant)


def choose_lock(root: Path) -> None:
    """locks/uv-py<version>.lock becomes uv.lock: the versions tested on that Python."""
    locks = root / "locks"
    chosen = locks / f"uv-py{PYTHON_VERSION}.lock"
    if chosen.is_file():
        shutil.move(chosen, root / "uv.lock")
    remove(locks)


def main() -> None:
    root = Path.cwd()
    choose_license(root)
    choose_lock(root)
    prune_cloud(root)
    choose_cd_workflow(root)
    print(f"Created {root.name}. Next: cd {root.name} && make setup && make all")


if __name__ == "__main__":
    main()
