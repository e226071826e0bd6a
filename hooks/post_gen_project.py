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

LICENSE_FILES = {
    "MIT": "MIT.txt",
    "Apache-2.0": "Apache-2.0.txt",
    "BSD-3-Clause": "BSD-3-Clause.txt",
}


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def choose_license(root: Path) -> None:
    texts = root / "licenses"
    chosen = LICENSE_FILES.get(LICENSE)
    if chosen is not None and (texts / chosen).exists():
        shutil.copyfile(texts / chosen, root / "LICENSE")
    remove(texts)


CD_WORKFLOWS = ("cd-aws-ecr.yml", "cd-aws-ghcr.yml", "cd-image-only.yml")


def prune_cloud(root: Path) -> None:
    if CLOUD != "aws":
        remove(root / "infra" / "aws")


def choose_cd_workflow(root: Path) -> None:
    """Keep one CD workflow, named cd.yml: what main ships depends on cloud and registry."""
    workflows = root / ".github" / "workflows"
    chosen = f"cd-aws-{REGISTRY}.yml" if CLOUD == "aws" else "cd-image-only.yml"
    if (workflows / chosen).exists():
        shutil.move(workflows / chosen, workflows / "cd.yml")
    for name in CD_WORKFLOWS:
        remove(workflows / name)


def main() -> None:
    root = Path.cwd()
    choose_license(root)
    prune_cloud(root)
    choose_cd_workflow(root)
    print(f"Created {root.name}. Next: cd {root.name} && make setup && make all")


if __name__ == "__main__":
    main()
