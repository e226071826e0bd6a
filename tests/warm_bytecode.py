"""Compile a rendered project's dependencies once, in uv's cache, before the tests set projects up.

Why: the template tests set up a dozen rendered projects, each with its own .venv.
uv links every installed file from its cache (hardlinks, `__pycache__` folders
included), but Python writes the bytecode it compiles on first import into the
project's own .venv: every project compiled the same modules again (Great
Expectations, MLflow, scikit-learn, pandas...), about 13 s of CPU for the imports
of one pipeline command alone. Compiled once in the cache, the bytecode is linked
into each .venv at `make setup`, and Python finds it valid (same file, same
mtime); a traceback still names the .venv's file (importlib fixes the code's
file name on load).

What it does: render the default project, `uv sync` it (which fills the cache on
a clean machine, as the first test would), find the cache files its .venv links
to, and compile those (`compileall`, timestamp-checked as Python's own). When uv
copies instead of linking (cache on another file system), nothing is shared and
it says so; the tests are only slower then, never wrong.

    uv run python -m tests.warm_bytecode
"""

from __future__ import annotations

import compileall
import os
import py_compile
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .helpers import cookiecutter_config, project_env, render, run

TEST_FOLDERS = {"tests", "test"}


def python_files(folder: Path) -> Iterator[Path]:
    """Every .py file under `folder` (symlinked folders are not followed)."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            if name.endswith(".py"):
                yield Path(root, name)


def linked_inodes(site_packages: Path) -> set[tuple[int, int]]:
    """The (device, inode) of each installed .py file that is a hardlink (uv's cache)."""
    found = set()
    for path in python_files(site_packages):
        status = path.stat()
        if status.st_nlink > 1:
            found.add((status.st_dev, status.st_ino))
    return found


def cache_files(archive: Path, inodes: set[tuple[int, int]]) -> list[Path]:
    """The files in uv's unpacked-wheel cache that are the given inodes.

    Libraries' own test suites (a `tests` or `test` folder) are left out: no
    project command imports them, and they are a quarter of the files.
    """
    matches = []
    for path in python_files(archive):
        if TEST_FOLDERS & set(path.relative_to(archive).parts[:-1]):
            continue
        status = path.stat()
        if (status.st_dev, status.st_ino) in inodes:
            matches.append(path)
    return matches


def _compile(paths: list[Path]) -> int:
    compiled = 0
    for path in paths:
        # quiet=2: a module that does not compile on this Python (a vendored py2 file,
        # a template) is skipped silently, as Python would skip it at import.
        if compileall.compile_file(
            path,
            quiet=2,
            invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
        ):
            compiled += 1
    return compiled


def compile_files(paths: list[Path]) -> int:
    """Compile each file next to itself (`__pycache__`) on every core; how many compiled."""
    workers = os.cpu_count() or 1
    shares = [paths[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_compile, shares))


def uv_cache_dir(env: dict[str, str]) -> Path:
    return Path(run(["uv", "cache", "dir"], env=env).stdout.strip())


def warm(work: Path) -> str:
    """Set up the default project in `work`, compile what its .venv links to; one line."""
    started = time.perf_counter()
    project = render(work / "render", cookiecutter_config(work / "cookiecutter-home"))
    env = project_env()
    run(["uv", "sync", "--locked", "--quiet"], cwd=project, env=env)
    inodes = set().union(*map(linked_inodes, project.glob(".venv/lib/python*/site-packages")))
    archive = uv_cache_dir(env) / "archive-v0"
    if not inodes:
        return "bytecode: uv copied the packages instead of linking them; nothing to share"
    files = cache_files(archive, inodes)
    compiled = compile_files(files)
    return (
        f"bytecode: compiled {compiled:,} of {len(files):,} modules a project installs, "
        f"once in uv's cache ({archive}), in {time.perf_counter() - started:.0f} s"
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="warm-bytecode-") as work:
        print(warm(Path(work)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
