"""The bytecode warm-up compiles exactly the cache files a project's .venv links to."""

from __future__ import annotations

import os
from pathlib import Path

from .warm_bytecode import cache_files, compile_files, linked_inodes


def _cache_and_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A fake uv archive and a site-packages that hardlinks part of it, as uv does."""
    archive, site = tmp_path / "archive-v0", tmp_path / "site-packages"
    for relative in ("a1/lib/core.py", "a1/lib/tests/test_core.py", "a2/other.py"):
        path = archive / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("VALUE = 1\n")
    (site / "lib" / "tests").mkdir(parents=True)
    os.link(archive / "a1/lib/core.py", site / "lib" / "core.py")
    os.link(archive / "a1/lib/tests/test_core.py", site / "lib" / "tests" / "test_core.py")
    (site / "own.py").write_text("X = 2\n")  # the project's own file: not from the cache
    return archive, site


def test_only_the_linked_files_outside_test_folders_are_compiled(tmp_path: Path) -> None:
    archive, site = _cache_and_venv(tmp_path)
    files = cache_files(archive, linked_inodes(site))
    assert files == [archive / "a1/lib/core.py"]
    assert compile_files(files) == 1
    assert [p.name.split(".")[0] for p in (archive / "a1/lib/__pycache__").iterdir()] == ["core"]
    assert not (archive / "a2/__pycache__").exists()


def test_a_copied_venv_shares_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "copied.py").write_text("Y = 3\n")
    assert linked_inodes(site) == set()
