"""The latency and size gates judge the change, not the machine.

`compare` blocks on latency and size only when it timed both models itself,
side by side: a baseline committed from a faster machine cannot fail a pull
request, and a candidate made 5x slower (a delay injected into its predictions)
is blocked. No test asserts a duration: only the gate's verdict.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import joblib
import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.layout import COMPARISON_FILE, METRICS_FILE, PIPELINE_FILE

from ..conftest import build_model_dir, scratch_settings
from .conftest import metrics_document, modified

TIMED_CALLS = 20  # per model and timing, the least the gate allows: the median plainly shows 5x


def set_latency_calls(gates: Path, calls: int) -> None:
    """Time fewer calls than the shipped gate; fail if its `calls:` line is not found."""
    text, found = re.subn(r"(?m)^(\s*calls:\s*)\d+", rf"\g<1>{calls}", gates.read_text())
    assert found == 1, f"{gates}: expected one `calls:` line, found {found}"
    gates.write_text(text)


class FiveTimesSlower:
    """A fitted pipeline whose every prediction takes at least 5x as long (the rest is sleep)."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def predict_proba(self, rows: Any) -> Any:
        start = time.perf_counter()
        scores = self.pipeline.predict_proba(rows)
        time.sleep(4 * (time.perf_counter() - start))
        return scores


class SlowWhileTheMachineIsBusy(FiveTimesSlower):
    """Five times slower for its first `busy_calls` predictions only: a neighbour's burst."""

    def __init__(self, pipeline: Any, busy_calls: int) -> None:
        super().__init__(pipeline)
        self.busy_calls = busy_calls

    def predict_proba(self, rows: Any) -> Any:
        if self.busy_calls <= 0:
            return self.pipeline.predict_proba(rows)
        self.busy_calls -= 1
        return super().predict_proba(rows)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("model") / "current")


@pytest.fixture
def project(tmp_path: Path, model_dir: Path) -> Path:
    """A project whose candidate and committed baseline have the same metrics."""
    settings = scratch_settings(tmp_path)
    shutil.copytree(model_dir, settings.current_model_dir)
    settings.metrics_dir.mkdir()
    (settings.metrics_dir / METRICS_FILE).write_text(json.dumps(metrics_document()))
    set_latency_calls(settings.gates_config_path, TIMED_CALLS)
    return tmp_path


def compare(project: Path, baseline: dict[str, Any], *options: str) -> tuple[int, dict[str, Any]]:
    path = project / "baseline.json"
    path.write_text(json.dumps(baseline))
    code = main(["--project-dir", str(project), "compare", "--baseline", str(path), *options])
    return code, json.loads((project / "reports" / COMPARISON_FILE).read_text())


def costs(comparison: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["gate"]: c for c in comparison["checks"] if c["gate"] in {"latency", "model_size"}}


def test_a_baseline_committed_at_half_the_latency_is_advisory(project: Path) -> None:
    """No baseline model to time: the committed figures are only reported."""
    code, comparison = compare(project, modified(metrics_document(), "latency_ms/p50", 2.0))
    assert code == 0
    assert costs(comparison)["latency"]["status"] == "advisory"
    assert "above the limit" in costs(comparison)["latency"]["reason"]


def test_a_baseline_committed_at_half_the_latency_passes_when_timed(
    project: Path, model_dir: Path
) -> None:
    """The same model timed side by side: the committed half-latency figure does not count."""
    shutil.copytree(model_dir, project / "models" / "baseline")
    code, comparison = compare(project, modified(metrics_document(), "latency_ms/p50", 2.0))
    assert code == 0, comparison
    assert {c["status"] for c in costs(comparison).values()} == {"pass"}
    assert comparison["measured"]["baseline_model"].startswith("models/baseline")


def test_a_five_times_slower_candidate_is_blocked(
    project: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = project / "models" / "current" / PIPELINE_FILE
    joblib.dump(FiveTimesSlower(joblib.load(current)), current)
    code, comparison = compare(project, metrics_document(), "--baseline-model", str(model_dir))
    assert code == 1
    assert costs(comparison)["latency"]["status"] == "fail"
    assert comparison["measured"]["attempts"] == 3  # slower every time it was timed
    assert "gate: FAILED" in capsys.readouterr().out


def test_a_candidate_slowed_by_a_busy_machine_once_passes_when_timed_again(
    project: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first timing (warm-up + its calls) is slowed: the second, on a quiet machine, counts."""
    current = project / "models" / "current" / PIPELINE_FILE
    slowed = SlowWhileTheMachineIsBusy(joblib.load(current), busy_calls=1 + TIMED_CALLS)
    joblib.dump(slowed, current)
    code, comparison = compare(project, metrics_document(), "--baseline-model", str(model_dir))
    assert code == 0, comparison
    assert costs(comparison)["latency"]["status"] == "pass"
    attempts = comparison["measured"]["attempts"]
    assert attempts >= 2  # the busy first timing never counts; a busy runner may need a third
    assert f"latency timed {attempts} times, the closest attempt counts" in capsys.readouterr().out


def test_a_baseline_model_that_cannot_score_leaves_the_costs_advisory(
    project: Path, model_dir: Path
) -> None:
    broken = project / "models" / "baseline"
    shutil.copytree(model_dir, broken)
    joblib.dump("not a model", broken / PIPELINE_FILE)
    code, comparison = compare(project, metrics_document())
    assert code == 0
    assert {c["status"] for c in costs(comparison).values()} == {"advisory"}
