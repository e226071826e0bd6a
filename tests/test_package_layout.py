"""The generated package reads as the pipeline, and each piece of shared knowledge has one home.

Copies of the same knowledge drift apart (two readers of the model version, two
names for one setting); these checks grep the rendered package so a second copy
fails the template's tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .combinations import DEFAULT
from .helpers import Renders

PACKAGE = "churn_prediction"
STAGES = ["contract", "validation", "train", "gate", "serving", "image", "deploy", "monitoring"]
KERNEL = ["cli.py", "errors.py", "settings.py", "config_files.py", "layout.py", "probes.py"]


@pytest.fixture(scope="module")
def package(renders: Renders) -> Path:
    return renders[DEFAULT] / "src" / PACKAGE


def _sources(package: Path, *, but: str | None = None) -> dict[str, str]:
    return {
        path.relative_to(package).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(package.rglob("*.py"))
        if path.relative_to(package).as_posix() != but
    }


def test_the_package_lists_the_stages(package: Path) -> None:
    folders = {p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(STAGES)
    assert {"core", "io", "jobs"} & folders == set()
    for name in KERNEL:
        assert (package / name).is_file(), name
    for stage in STAGES:
        assert (package / stage / "command.py").is_file(), f"{stage} has no command.py"


def test_one_yaml_loader(package: Path) -> None:
    users = [name for name, text in _sources(package).items() if "yaml.safe_load" in text]
    assert users == ["config_files.py"]
    loaders = [
        name
        for name, text in _sources(package).items()
        if re.search(r"^def load_yaml\b", text, re.M)
    ]
    assert loaders == ["config_files.py"]


def test_one_model_version_rule(package: Path) -> None:
    definitions = [
        name for name, text in _sources(package).items() if re.search(r"def model_version\b", text)
    ]
    assert definitions == ["layout.py"]
    readers = [
        name
        for name, text in _sources(package, but="layout.py").items()
        if re.search(r"""\[["']mlflow["']\]|get\(["']mlflow["']""", text)
    ]
    assert readers == [], f"these modules read the model version themselves: {readers}"


def test_file_names_live_in_layout(package: Path) -> None:
    layout = (package / "layout.py").read_text(encoding="utf-8")
    names = set(
        re.findall(r'^[A-Z_]+ = "([\w.-]+\.(?:json|md|html|onnx|joblib|log))"', layout, re.M)
    )
    assert {"report.md", "metrics.json", "metadata.json", "drift.json", "model.onnx"} <= names
    for module, text in _sources(package, but="layout.py").items():
        quoted = {name for name in names if f'"{name}"' in text or f"'{name}'" in text}
        assert not quoted, f"{module} spells {sorted(quoted)} instead of using layout.py"


def test_cli_is_a_thin_command_table(package: Path) -> None:
    cli = (package / "cli.py").read_text(encoding="utf-8")
    assert len(cli.splitlines()) < 100
    assert cli.count("except ") == 1
    assert "except ProjectError" in cli
