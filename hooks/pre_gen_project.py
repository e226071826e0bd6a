"""Refuse bad answers before cookiecutter writes any file of the project.

Cookiecutter creates the empty project folder, runs this hook inside it and
deletes the folder again when the hook exits non-zero, so a refusal here leaves
nothing behind. Every message names the answer, what was given and what is
allowed, because the user sees only this text.

The allowed values of the choice options come from the template's own
cookiecutter.json, so adding a choice there is the only edit it needs.
Cookiecutter checks choices itself, except for answers read from a replay file;
this hook catches those.
"""

from __future__ import annotations

import contextlib
import json
import keyword
import os
import re
import sys
from pathlib import Path

# tojson escapes every quote, so the JSON text can never close this raw string early.
ANSWERS: dict[str, object] = json.loads(r"""{{ cookiecutter | tojson }}""")

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The generated code keeps every line within 100 characters for package names up
# to this length (the template tests render one this long and run its lint).
MAX_PACKAGE_LENGTH = 40

# Import names of the generated project's dependencies and tools: a package
# with one of these names would shadow the real module on sys.path.
DEPENDENCY_MODULES = frozenset(
    {
        "boto3",
        "botocore",
        "docker",
        "fastapi",
        "great_expectations",
        "gx",
        "httpx",
        "locust",
        "matplotlib",
        "mlflow",
        "moto",
        "mypy",
        "numpy",
        "onnx",
        "onnxruntime",
        "pandas",
        "prometheus_client",
        "pydantic",
        "pydantic_settings",
        "pytest",
        "requests",
        "ruff",
        "scipy",
        "skl2onnx",
        "sklearn",
        "starlette",
        "uvicorn",
        "yaml",
        "src",
        "tests",
        "test",
        "data_tests",
        "config",
        "infra",
    }
)


def template_candidates(answers: dict[str, object]) -> list[Path]:
    """Folders that may hold the template being rendered, the most exact first.

    Cookiecutter gives `_repo_dir`, but relative when the user typed a relative
    path, and this hook runs in the new project's folder. Cruft gives no
    `_repo_dir`, and its `_template` is a URL or a local template's working
    tree, not the commit it renders. Both run this hook while their process
    works inside the template folder they render (cookiecutter's
    `work_in(repo_dir)`), so on Linux the parent process's working folder is
    that exact folder: a local path, a remote template's clone, or cruft's
    checkout of the rendered commit.
    """
    candidates = []
    repo_dir = Path(str(answers.get("_repo_dir", "")))
    if repo_dir.is_absolute():
        candidates.append(repo_dir)
    with contextlib.suppress(OSError):  # no /proc outside Linux
        candidates.append(Path(os.readlink(f"/proc/{os.getppid()}/cwd")))
    return candidates


def read_choices(answers: dict[str, object]) -> dict[str, tuple[str, ...]] | None:
    """Each choice option of the template's cookiecutter.json and its values; None if not found."""
    for folder in template_candidates(answers):
        options_file = folder / "cookiecutter.json"
        if options_file.is_file() and (folder / "hooks" / "pre_gen_project.py").is_file():
            options = json.loads(options_file.read_text(encoding="utf-8"))
            return {
                key: tuple(str(value) for value in values)
                for key, values in options.items()
                if isinstance(values, list) and not key.startswith("_")
            }
    return None


def check_slug(slug: str) -> list[str]:
    if SLUG_PATTERN.fullmatch(slug):
        return []
    return [
        f"project_slug: got {slug!r}; allowed: lowercase letters and digits in "
        "groups joined by single hyphens, starting with a letter (e.g. 'churn-model')."
    ]


def check_package(name: str) -> list[str]:
    if not PACKAGE_PATTERN.fullmatch(name) or not name.isidentifier():
        return [
            f"package_name: got {name!r}; allowed: a Python identifier of lowercase "
            "letters, digits and underscores, starting with a letter (e.g. 'churn_model')."
        ]
    if len(name) > MAX_PACKAGE_LENGTH:
        return [
            f"package_name: got {name!r} ({len(name)} characters); allowed: at most "
            f"{MAX_PACKAGE_LENGTH} characters (e.g. {name[:MAX_PACKAGE_LENGTH].rstrip('_')!r})."
        ]
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return [f"package_name: got {name!r}, which is a Python keyword; choose another name."]
    if name in sys.stdlib_module_names:
        return [
            f"package_name: got {name!r}, which shadows the standard-library module "
            f"{name!r}; choose another name (e.g. '{name}_model')."
        ]
    if name in DEPENDENCY_MODULES:
        return [
            f"package_name: got {name!r}, which shadows a module the project imports "
            f"or a folder it creates; choose another name (e.g. '{name}_model')."
        ]
    return []


def check_choices(answers: dict[str, object], choices: dict[str, tuple[str, ...]]) -> list[str]:
    errors = []
    for key, allowed in choices.items():
        value = str(answers.get(key, ""))
        if value not in allowed:
            errors.append(f"{key}: got {value!r}; allowed: {', '.join(allowed)}.")
    return errors


def check_author(name: str, email: str) -> list[str]:
    errors = []
    if not name.strip():
        errors.append("author_name: got an empty name; allowed: any non-empty name.")
    if not EMAIL_PATTERN.fullmatch(email.strip()):
        errors.append(
            f"author_email: got {email!r}; allowed: an address like 'name@example.com' "
            "(one '@' and a domain)."
        )
    return errors


def check_combination(answers: dict[str, object]) -> list[str]:
    if answers.get("registry") == "ecr" and answers.get("cloud") != "aws":
        return [
            f"registry: got 'ecr' with cloud={answers.get('cloud')!r}; Amazon ECR needs "
            "an AWS account, so allowed: registry='ghcr' with cloud='none', or cloud='aws'."
        ]
    return []


# AWS names each environment's resources <slug>-<code>-<suffix>, the longest being the
# target group <slug>-prod-green; load balancer and target group names have at most 32
# characters (config/deploy.yaml and infra/aws apply the same rule).
AWS_NAME_LIMIT = 32
AWS_LONGEST_SUFFIX = "-prod-green"
AWS_SLUG_LIMIT = AWS_NAME_LIMIT - len(AWS_LONGEST_SUFFIX)


def check_aws_names(answers: dict[str, object]) -> list[str]:
    slug = str(answers.get("project_slug", ""))
    if answers.get("cloud") != "aws" or len(slug) <= AWS_SLUG_LIMIT:
        return []
    return [
        f"project_slug: got {slug!r} ({len(slug)} characters) with cloud='aws'; allowed: at "
        f"most {AWS_SLUG_LIMIT} characters, because AWS limits load balancer and target group "
        f"names to {AWS_NAME_LIMIT} and the longest is '<slug>{AWS_LONGEST_SUFFIX}' "
        f"(e.g. '{slug[:AWS_SLUG_LIMIT].rstrip('-')}')."
    ]


def validate(answers: dict[str, object], choices: dict[str, tuple[str, ...]]) -> list[str]:
    slug = str(answers.get("project_slug", ""))
    package = str(answers.get("package_name", ""))
    return (
        check_slug(slug)
        + check_package(package)
        + check_author(str(answers.get("author_name", "")), str(answers.get("author_email", "")))
        + check_choices(answers, choices)
        + check_combination(answers)
        + check_aws_names(answers)
    )


def main() -> int:
    choices = read_choices(ANSWERS)
    if choices is None:
        print(
            "cookiecutter-mlops: note: the template's cookiecutter.json was not found from "
            "this hook, so the choice answers were checked by cookiecutter only.",
            file=sys.stderr,
        )
    errors = validate(ANSWERS, choices or {})
    if not errors:
        return 0
    print("cookiecutter-mlops: cannot generate the project, nothing was written:", file=sys.stderr)
    for error in errors:
        print(f"  - {error}", file=sys.stderr)
    print("Run cookiecutter again with corrected answers.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
