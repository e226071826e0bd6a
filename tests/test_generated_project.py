"""Every runnable combination passes its own `make setup && make ci` right after rendering."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from .combinations import RUNNABLE, combo_id
from .conftest import project_env, render


def make(project: Path, *targets: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    result = subprocess.run(
        ["make", "-C", str(project), *targets],
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    print(f"make {' '.join(targets)} in {project.name}: {elapsed:.1f}s, exit {result.returncode}")
    assert result.returncode == 0, (
        f"make {' '.join(targets)} failed in {project}\n"
        f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
    )
    return result


@pytest.mark.slow
@pytest.mark.parametrize("combo", RUNNABLE, ids=combo_id)
def test_setup_and_ci_pass(tmp_path: Path, combo: dict[str, str]) -> None:
    project = render(tmp_path, **combo)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    make(project, "setup")
    make(project, "ci")


@pytest.mark.slow
def test_unimplemented_targets_fail_loudly(tmp_path: Path) -> None:
    project = render(tmp_path)
    result = subprocess.run(
        ["make", "-C", str(project), "deploy-local"],
        env=project_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "not implemented yet" in result.stderr
