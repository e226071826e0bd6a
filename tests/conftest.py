"""Fixtures shared by every template test; helpers live in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import Renders, cookiecutter_config


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
