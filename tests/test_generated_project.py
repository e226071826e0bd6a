"""Every runnable combination passes its own `make setup && make ci` right after rendering."""

from __future__ import annotations

import json
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
    result = make(project, "ci")
    # ci trains and runs the model tests: the outputs the later steps read are in place.
    assert "[train] total:" in result.stdout
    record = json.loads((project / "metrics" / "metrics.json").read_text())
    assert record["metrics"]["roc_auc"] > 0.8
    assert record["data"]["rows"] == {"train": 5634, "test": 1409}
    metadata = json.loads((project / "models" / "current" / "metadata.json").read_text())
    assert metadata["mlflow"]["alias"] == "challenger"
    assert (project / "mlflow.db").is_file()
    assert sorted(p.name for p in (project / "reports" / "figures").iterdir()) == [
        "calibration.png",
        "confusion_matrix.png",
        "precision_recall.png",
        "roc.png",
    ]


@pytest.mark.slow
def test_unimplemented_targets_fail_loudly(tmp_path: Path) -> None:
    project = render(tmp_path)
    result = subprocess.run(
        ["make", "-C", str(project), "drift"], env=project_env(), capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "not implemented yet" in result.stderr
