"""Every runnable combination passes its own `make setup && make ci` right after rendering."""

from __future__ import annotations

import copy
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def _better_slice(doc: dict[str, Any]) -> str:
    for column, values in sorted(doc["slices"].items()):
        for value, stats in sorted(values.items()):
            if stats.get("n", 0) >= 50 and stats.get("roc_auc") is not None:
                stats["roc_auc"] = min(1.0, stats["roc_auc"] + 0.2)
                return f"{column}={value} roc_auc"
    raise AssertionError("no slice large enough to gate")


def _scaled(section: str, key: str, factor: float, subject: str) -> Callable[[dict[str, Any]], str]:
    def edit(doc: dict[str, Any]) -> str:
        doc[section][key] = doc[section][key] * factor
        return subject

    return edit


def _raised(metric: str, by: float) -> Callable[[dict[str, Any]], str]:
    def edit(doc: dict[str, Any]) -> str:
        doc["metrics"][metric] = doc["metrics"][metric] + by
        return metric

    return edit


# Baselines edited to be better than the trained candidate: each must be blocked.
REGRESSIONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "roc-auc-drop": _raised("roc_auc", 0.05),
    "recall-drop": _raised("recall", 0.10),
    "slice-collapse": _better_slice,
    "latency-x2": _scaled("latency_ms", "p95", 0.5, "latency p95 (ms)"),
    "size-x5": _scaled("model", "size_bytes", 0.2, "model size (bytes)"),
}


def assert_regressions_blocked(project: Path, package: str) -> None:
    candidate = json.loads((project / "metrics" / "metrics.json").read_text())
    for name, edit in REGRESSIONS.items():
        baseline = copy.deepcopy(candidate)
        subject = edit(baseline)
        path = project / "reports" / f"baseline-{name}.json"
        path.write_text(json.dumps(baseline))
        result = subprocess.run(
            ["uv", "run", "--quiet", package, "compare", "--baseline", str(path)],
            cwd=project,
            env=project_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1, f"{name} was not blocked:\n{result.stdout}{result.stderr}"
        assert "gate: FAILED" in result.stdout
        assert subject in result.stdout, f"{name}: {subject!r} not named:\n{result.stdout}"


@pytest.mark.slow
@pytest.mark.parametrize("combo", RUNNABLE, ids=combo_id)
def test_setup_and_ci_pass(tmp_path: Path, combo: dict[str, str]) -> None:
    project = render(tmp_path, **combo)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    make(project, "setup")
    # The default combination runs the whole local pipeline (`make all`, as `make demo`
    # does); the others run what CI runs. Serving and release code do not vary by option.
    try:
        ci = make(project, "all" if combo == RUNNABLE[0] else "ci")
        check_pipeline_outputs(project, combo, ci)
    finally:  # `make all` leaves the local release serving, as `make demo` does
        subprocess.run(["make", "-C", str(project), "deploy-stop"], env=project_env(),
                       capture_output=True, check=False)  # fmt: skip


def check_pipeline_outputs(
    project: Path, combo: dict[str, str], ci: subprocess.CompletedProcess[str]
) -> None:
    # ci trains and runs the model tests: the outputs the later steps read are in place.
    assert "[train] total:" in ci.stdout
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
    assert "No baseline found" in ci.stdout  # first model: compare passes and says so
    assert_regressions_blocked(project, "churn_prediction")
    if combo == RUNNABLE[0]:
        assert_registry_baseline(project, "churn_prediction")


def assert_registry_baseline(project: Path, package: str) -> None:
    """With the registry as baseline: promote the model, then compare against `champion`."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["uv", "run", "--quiet", package, *args],
            cwd=project, env=project_env(), capture_output=True, text=True, check=False,
        )  # fmt: skip

    promoted = run("promote")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert "@champion -> version 1" in promoted.stdout
    compared = run("compare", "--source", "registry")
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "baseline: registry churn_prediction@champion (version 1)" in compared.stdout
