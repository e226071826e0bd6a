"""Fixtures shared by every template test; helpers live in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import system_tools
from .helpers import Renders, cookiecutter_config

NOT_TESTED = pytest.StashKey[dict[str, list[pytest.Item]]]()


@pytest.hookimpl(trylast=True)  # after -k / -m have deselected: only the tests that will run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stop at once when a selected test needs a missing tool the run did not accept to miss.

    Tests of an accepted missing tool are left out and counted in the summary line.
    """
    refused, gaps = system_tools.check(items)
    if refused:
        pytest.exit(system_tools.refusal(refused), returncode=pytest.ExitCode.USAGE_ERROR)
    left_out = {id(item) for tests in gaps.values() for item in tests}
    items[:] = [item for item in items if id(item) not in left_out]
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
