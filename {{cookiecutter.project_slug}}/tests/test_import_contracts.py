"""The import contracts `make lint` checks: kept by the package, broken by planted violations."""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import PROJECT_DIR

CHECKER = PROJECT_DIR / "tools" / "import_contracts.py"
PACKAGE = "{{ cookiecutter.package_name }}"


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_contracts", CHECKER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    parse = module.imports_of
    parsed: dict[tuple[bytes, str, str], list[Any]] = {}

    def imports_of(path: Path, name: str, package: str) -> Iterator[Any]:
        """The checker's own parse, once per distinct file: the copies share all but one."""
        key = (path.read_bytes(), name, package)
        if key not in parsed:
            parsed[key] = list(parse(path, name, package))
        return iter(parsed[key])

    module.imports_of = imports_of
    return module


_checker = functools.cache(_load_checker)  # one module and one parse cache per session


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The project's pyproject.toml and package, to plant violations in."""
    shutil.copy(PROJECT_DIR / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        PROJECT_DIR / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def _plant(copy: Path, module: str, code: str) -> None:
    path = copy / "src" / PACKAGE / module
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n" + code + "\n")


def test_the_package_keeps_its_contracts() -> None:
    assert _checker().check(PROJECT_DIR) == []


@pytest.mark.parametrize(
    ("module", "code", "message"),
    [
        ("train/split.py", "import subprocess", "pure module 'train.split' imports 'subprocess'"),
        (
            "gate/rules.py",
            "def f():\n    import mlflow",
            "pure module 'gate.rules' imports 'mlflow'",
        ),
        ("monitoring/stats.py", "from urllib import request", "imports 'urllib'"),
        ("train/tables.py", "from ..deploy import lifecycle", "imports the later stage 'deploy'"),
        ("contract/model.py", "from ..serving.schema import X", "later stage 'serving.schema'"),
        ("layout.py", "from .image import spec", "kernel module 'layout' imports stage 'image'"),
        ("deploy/command.py", "from ..image.command import COMMANDS", "another stage's"),
        ("gate/rules.py", "from ..cli import main", "imports the entry point 'cli'"),
        ("helpers.py", "X = 1", "neither a stage, the kernel nor an entry point"),
        ("train/new_module.py", "import boto3", "pure module 'train.new_module' imports 'boto3'"),
    ],
)
def test_a_planted_violation_is_named(copy: Path, module: str, code: str, message: str) -> None:
    _plant(copy, module, code)
    problems = _checker().check(copy)
    assert any(message in problem for problem in problems), problems


def test_a_side_effect_module_may_touch_the_world(copy: Path) -> None:
    _plant(copy, "train/tracking.py", "import subprocess")
    assert _checker().check(copy) == []


def test_the_script_exits_non_zero_on_a_violation(copy: Path) -> None:
    shutil.copytree(PROJECT_DIR / "tools", copy / "tools")
    _plant(copy, "train/split.py", "import socket")
    result = subprocess.run(
        [sys.executable, str(copy / "tools" / "import_contracts.py"), str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "1 violation(s)" in result.stdout
