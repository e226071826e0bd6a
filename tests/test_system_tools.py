"""A machine that lacks a system tool makes the full run fail at once, naming it and its install.

Each tool a template test declares is hidden in turn (a PATH of links to every
program but that one) and the full test selection is collected, as `make test`
collects it: the run must stop before any test, naming the tool and the command
that installs it. Accepting the gap (ALLOW_MISSING_TOOLS) runs the rest and says
in the summary line what was not tested.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from . import system_tools
from .helpers import TEMPLATE_DIR, run


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of links to every program on PATH (the first of each name, as PATH finds it)."""
    folder = tmp_path_factory.mktemp("path")
    for directory in os.environ["PATH"].split(os.pathsep):
        if not Path(directory).is_dir():
            continue
        for program in Path(directory).iterdir():
            link = folder / program.name
            if not link.exists() and os.access(program, os.X_OK):
                link.symlink_to(program)
    return folder


def without(programs: Path, tool: str, tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH holds every program but `tool`'s."""
    folder = tmp_path / "bin"
    folder.mkdir()
    hidden = system_tools.programs_of(tool)
    for link in programs.iterdir():
        if link.name not in hidden:
            (folder / link.name).symlink_to(link.resolve())
    env = {k: v for k, v in os.environ.items() if k != system_tools.ALLOW_MISSING}
    env["PATH"] = str(folder)
    return env


def pytest_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]


def test_every_declared_tool_is_installed_by_system_deps() -> None:
    makefile = (TEMPLATE_DIR / "Makefile").read_text()
    line = next(x for x in makefile.splitlines() if x.startswith("SYSTEM_TOOLS :="))
    assert tuple(line.split(":=", 1)[1].split()) == system_tools.TOOLS


# debootstrap is declared by no test: the image tests need it only when the base image
# is neither in storage, nor cached, nor pullable, and then say so (tests/podman.py).
DECLARED = [tool for tool in system_tools.TOOLS if tool != "debootstrap"]


@pytest.mark.slow  # one collection of the whole suite per tool: ~40 s in all
@pytest.mark.beside
@pytest.mark.parametrize("tool", DECLARED)
def test_a_missing_tool_stops_the_full_run_naming_it(
    programs: Path, tmp_path: Path, tool: str
) -> None:
    if not any((programs / name).exists() for name in system_tools.programs_of(tool)):
        pytest.fail(f"{tool} is not installed here: `make system-deps` installs it")
    hint = system_tools.hint(tool)
    result = run(
        pytest_cmd("--collect-only", "-q"),
        cwd=TEMPLATE_DIR,
        env=without(programs, tool, tmp_path),
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output[-3000:]
    assert f"  - {tool} (" in output, output[-3000:]
    assert hint in output
    assert "make system-deps" in output


@pytest.mark.slow  # a real run of two tests in a subprocess
@pytest.mark.beside
def test_an_accepted_gap_is_named_in_the_summary_line(programs: Path, tmp_path: Path) -> None:
    env = without(programs, "promtool", tmp_path)
    env[system_tools.ALLOW_MISSING] = "promtool"
    selection = "alert_rules_are_valid or compose_refers"
    result = run(
        pytest_cmd("tests/test_monitoring.py", "-k", selection),
        cwd=TEMPLATE_DIR,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert "1 passed" in last
    assert "1 not tested (missing promtool)" in last
    assert "tests/test_monitoring.py::test_alert_rules_are_valid" in result.stdout
