"""System programs the template tests run, and what a run does when one is missing.

A test declares the programs it runs with `@needs("promtool")`. Before any test
runs, the session checks the programs of every selected test: a missing one
stops the whole run at once with one message naming it and the command that
installs it (`make system-deps` installs them all), so a newcomer's machine
never silently tests less than CI. A run may accept a gap explicitly: the tools
listed in ALLOW_MISSING (comma-separated) are tolerated, their tests are not
run, and the summary line says so ("3 not tested (missing promtool)").

The install hints come from the generated project's `tools/system-deps.sh`,
the one table of system tools, which `make system-deps` (and `.ci/run`) also run.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
SCRIPT = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "tools" / "system-deps.sh"
ALLOW_MISSING = "ALLOW_MISSING_TOOLS"
MARKER = "needs"
# Every program a template test may declare; `make system-deps` installs exactly these.
TOOLS = (
    "git",
    "make",
    "nginx",
    "prometheus",
    "promtool",
    "shellcheck",
    "podman",
    "runc",
    "skopeo",
    "docker-registry",
    "debootstrap",
    "postgresql",
    "wrk",
)
# Tools that are not one program of their name: the programs that show they are there.
# Debian's PostgreSQL keeps pg_ctl off PATH (/usr/lib/postgresql/<version>/bin) and puts
# its cluster wrapper on it; elsewhere (Homebrew) pg_ctl is on PATH.
PROGRAMS = {"postgresql": ("pg_ctlcluster", "pg_ctl")}


def programs_of(tool: str) -> tuple[str, ...]:
    """The programs whose presence on PATH means `tool` is installed."""
    return PROGRAMS.get(tool, (tool,))


def needs(*tools: str) -> pytest.MarkDecorator:
    """Mark a test (or a module, as `pytestmark`) as running these system programs."""
    return getattr(pytest.mark, MARKER)(*tools)


@functools.cache
def present(tool: str) -> bool:
    """True when the tool's program is on PATH."""
    return any(shutil.which(program) is not None for program in programs_of(tool))


def hint(tool: str) -> str:
    """How to install `tool`, from the one table in tools/system-deps.sh."""
    result = subprocess.run(
        ["bash", str(SCRIPT), "--hint", tool], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or f"install {tool}"


def allowed_missing() -> set[str]:
    """The tools this run accepts to go without (ALLOW_MISSING_TOOLS=promtool,podman)."""
    return {t.strip() for t in os.environ.get(ALLOW_MISSING, "").split(",") if t.strip()}


def tools_of(item: pytest.Item) -> set[str]:
    """The programs a collected test declared with `needs` (each one of TOOLS)."""
    tools = {tool for mark in item.iter_markers(MARKER) for tool in mark.args}
    unknown = tools - set(TOOLS)
    if unknown:
        raise pytest.UsageError(f"{item.nodeid}: needs {sorted(unknown)}, not in TOOLS")
    return tools


def refusal(missing: dict[str, int]) -> str:
    """The message that stops a run lacking tools it did not accept to go without."""
    lines = ["missing system tools, so these tests cannot run:"]
    lines += [f"  - {tool} ({count} tests): {hint(tool)}" for tool, count in missing.items()]
    lines.append(
        "Install them all with `make system-deps` (Debian/Ubuntu), or accept the gap "
        f"explicitly: {ALLOW_MISSING}={','.join(missing)} make test"
    )
    return "\n".join(lines)


def check(items: Iterable[pytest.Item]) -> tuple[dict[str, int], dict[str, list[pytest.Item]]]:
    """(missing tools not accepted -> test count, accepted missing tool -> its tests)."""
    accepted = allowed_missing()
    refused: dict[str, int] = {}
    gaps: dict[str, list[pytest.Item]] = {}
    for item in items:
        for tool in sorted(tools_of(item)):
            if present(tool):
                continue
            if tool in accepted:
                gaps.setdefault(tool, []).append(item)
            else:
                refused[tool] = refused.get(tool, 0) + 1
    return refused, gaps
