"""Fixtures shared by every template test; helpers live in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import system_tools
from .helpers import Renders, cookiecutter_config

NOT_TESTED = pytest.StashKey[dict[str, list[pytest.Item]]]()


# The modules whose tests take longest (`make test` prints the durations), roughly longest
# first. xdist hands tests out in collection order (`--no-loadscope-reorder`: by default
# it puts the groups with most tests first), so these start first and the short ones
# fill the gaps at the end: the workers end together instead of one waiting minutes for
# another's last long pipeline. Each worker holds the next unit while it runs one, so
# what comes right after the longest ones runs after them. Measured on four workers (a
# group's tests go as one unit): chaos 376 s, the CD runs 306 s and 142 s, the own-data
# pipelines 226 s and 91 s, team tracking 127 s, the cloud variant's lint and unit tests
# 118 s, the gates and report 105 s, the image 60 s; phase 2 took 450 s in this order
# (a simulation of xdist's scheduling puts it within a few percent of the best order).
LONGEST_FIRST = (
    "test_cd_as_shipped.py",
    "test_chaos.py",
    "test_own_data.py",
    "test_gates_and_report.py",
    "test_image.py",
    "test_generated_project.py",
    "test_team_tracking.py",
    "test_retrain_workflow.py",
)


def longest_first(item: pytest.Item) -> int:
    """The item's rank: its module's place in LONGEST_FIRST, the other modules after."""
    name = item.path.name
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


@pytest.hookimpl(trylast=True)  # after -k / -m have deselected: only the tests that will run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stop at once when a selected test needs a missing tool the run did not accept to miss.

    Tests of an accepted missing tool are left out and counted in the summary line. The
    rest run longest first (a stable sort: within a module, in their written order).
    """
    refused, gaps = system_tools.check(items)
    if refused:
        pytest.exit(system_tools.refusal(refused), returncode=pytest.ExitCode.USAGE_ERROR)
    left_out = {id(item) for tests in gaps.values() for item in tests}
    items[:] = sorted((item for item in items if id(item) not in left_out), key=longest_first)
    config.stash[NOT_TESTED] = gaps


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name what was not tested, in its own section and in the final summary line."""
    gaps = terminalreporter.config.stash.get(NOT_TESTED, {})
    for tool, tests in gaps.items():
        key = f"not tested (missing {tool})"
        terminalreporter.write_sep("=", f"{len(tests)} {key}: {system_tools.hint(tool)}", red=True)
        for test in tests:
            terminalreporter.write_line(f"  {test.nodeid}")
        terminalreporter.stats.setdefault(key, []).extend(tests)


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Renders]:
    """The tested combinations' rendered projects, read-only (copy one to change it)."""
    config = cookiecutter_config(tmp_path_factory.mktemp("renders-cookiecutter-home"))
    shared = Renders(tmp_path_factory.mktemp("renders"), config)
    yield shared
    changed = shared.changed()
    assert changed == [], f"tests changed the shared renders {changed}: use renders.copy()"


@pytest.fixture(autouse=True)
def cookiecutter_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep cookiecutter's replay files and cloned templates out of the user's home."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(cookiecutter_config(home)))
    return home
