from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import GateConfigError
from {{ cookiecutter.package_name }}.gate.config import (
    GateConfig,
    Reproducibility,
    load_gate_config,
)
from {{ cookiecutter.package_name }}.gate.rules import (
    Comparison,
    MeasuredCosts,
    compare,
    reproduction_checks,
)

from .conftest import metrics_document, modified


@pytest.fixture(scope="module")
def config(project_dir: Path) -> GateConfig:
    return load_gate_config(project_dir / "config" / "gates.yaml")


BASELINE = metrics_document()


def measured(latency_factor: float = 1.0, size_factor: float = 1.0) -> MeasuredCosts:
    """Both models timed side by side: the candidate `factor` times the baseline."""
    return MeasuredCosts(
        candidate_latency_ms={"p50": 4.0 * latency_factor, "p95": 6.0 * latency_factor},
        baseline_latency_ms={"p50": 4.0, "p95": 6.0},
        candidate_size_bytes=int(200_000 * size_factor),
        baseline_size_bytes=200_000,
        baseline_model="models/baseline (model version 3)",
    )


# Latency and size regressions block when `compare` measured both models side by side.
REGRESSIONS = [
    pytest.param(modified(BASELINE, "metrics/roc_auc", 0.81), "roc_auc", None, id="roc-auc-drop"),
    pytest.param(modified(BASELINE, "metrics/recall", 0.62), "recall", None, id="recall-drop"),
    pytest.param(
        modified(BASELINE, "slices/Contract/Two year/roc_auc", 0.60),
        "Contract=Two year roc_auc",
        None,
        id="slice-collapse",
    ),
    pytest.param(BASELINE, "latency p50 (ms)", measured(latency_factor=2), id="latency-x2"),
    pytest.param(BASELINE, "model size (bytes)", measured(size_factor=5), id="size-x5"),
    pytest.param(
        modified(BASELINE, "metrics/log_loss", 0.50), "log_loss", None, id="log-loss-rise"
    ),
]


@pytest.mark.parametrize(("candidate", "subject", "costs"), REGRESSIONS)
def test_injected_regressions_are_blocked(
    config: GateConfig, candidate: dict[str, object], subject: str, costs: MeasuredCosts | None
) -> None:
    result = compare(candidate, BASELINE, config, "origin/main", measured=costs)
    assert not result.passed
    assert [c.subject for c in result.failures] == [subject]
    assert result.failures[0].reason


def test_committed_costs_are_advisory_never_blocking(config: GateConfig) -> None:
    """Figures from two machines: a committed baseline at half the latency does not fail."""
    candidate = modified(modified(BASELINE, "latency_ms/p50", 8.0), "model/size_bytes", 10**6)
    result = compare(candidate, BASELINE, config, "origin/main")
    assert result.passed
    costs = {c.gate: c for c in result.checks if c.gate in {"latency", "model_size"}}
    assert {c.status for c in costs.values()} == {"advisory"}
    assert "above the limit" in costs["latency"].reason
    assert "advisory" in result.notes[-1]


def test_same_speed_measured_side_by_side_passes(config: GateConfig) -> None:
    result = compare(BASELINE, BASELINE, config, "origin/main", measured=measured(1.2, 1.0))
    assert result.passed
    assert {c.status for c in result.checks if c.gate == "latency"} == {"pass"}


def test_improvement_passes(config: GateConfig) -> None:
    better = metrics_document(roc_auc=0.86, recall=0.70, log_loss=0.40)
    assert compare(better, BASELINE, config, "origin/main").passed


def test_noise_within_tolerance_passes(config: GateConfig) -> None:
    noisy = metrics_document(roc_auc=0.8395, recall=0.655, brier=0.1405)
    noisy = modified(noisy, "latency_ms/p95", 6.3)
    assert compare(noisy, BASELINE, config, "origin/main").passed


def test_missing_baseline_passes_and_says_so(config: GateConfig) -> None:
    result = compare(BASELINE, None, config, None)
    assert result.passed
    assert "No baseline" in result.notes[0]
    assert {c.gate for c in result.checks} == {"floor"}


def test_floors_apply_without_baseline(config: GateConfig) -> None:
    weak = metrics_document(roc_auc=0.62)
    result = compare(weak, None, config, None)
    assert [c.subject for c in result.failures] == ["roc_auc"]
    assert "required ≥ 0.8" in result.failures[0].reason


def test_changed_data_is_said_and_regression_gates_skip(config: GateConfig) -> None:
    other_data = modified(metrics_document(roc_auc=0.80), "data/fingerprint", "f" * 64)
    result = compare(other_data, BASELINE, config, "origin/main")
    assert result.data_changed
    assert "data changed" in result.notes[0]
    assert all(c.status == "skip" for c in result.checks if c.gate == "regression")
    assert result.passed


def test_missing_candidate_metric_fails(config: GateConfig) -> None:
    candidate = metrics_document()
    del candidate["metrics"]["recall"]
    result = compare(candidate, BASELINE, config, "origin/main")
    assert "recall" in {c.subject for c in result.failures}


def test_small_slices_are_not_gated(config: GateConfig) -> None:
    tiny = modified(BASELINE, "slices/Contract/Two year/n", 10)
    candidate = modified(tiny, "slices/Contract/Two year/roc_auc", 0.5)
    assert compare(candidate, tiny, config, "origin/main").passed


def test_comparison_round_trips_through_json(config: GateConfig) -> None:
    worse = modified(BASELINE, "metrics/roc_auc", 0.7)
    for costs in (None, measured(3.0)):
        result = compare(worse, BASELINE, config, "x", measured=costs)
        again = Comparison.from_dict(result.to_dict())
        assert again == result


def test_reproduction_shows_both_values() -> None:
    fresh = metrics_document(roc_auc=0.8412)
    checks = reproduction_checks(BASELINE, fresh, 1e-6)
    failed = [c for c in checks if c.status == "fail"]
    assert [c.subject for c in failed] == ["roc_auc"]
    assert "committed 0.84" in failed[0].reason
    assert "re-trained 0.8412" in failed[0].reason
    assert all(c.status == "pass" for c in reproduction_checks(BASELINE, BASELINE, 1e-6))


def test_reproduction_tolerates_one_rounding_step() -> None:
    """metrics.json keeps 6 decimals: two machines may land one step (1e-6) apart."""
    fresh = metrics_document(roc_auc=0.840001)
    tolerance = Reproducibility().tolerance
    assert all(c.status == "pass" for c in reproduction_checks(BASELINE, fresh, tolerance))


def test_reproduction_tolerance_must_be_above_the_rounding_step(tmp_path: Path) -> None:
    path = tmp_path / "gates.yaml"
    path.write_text("reproducibility: {tolerance: 0.000001}\n")
    with pytest.raises(GateConfigError, match=r"not above the rounding step .* at least 2e-06"):
        load_gate_config(path)


def test_bad_gate_config_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gates.yaml"
    path.write_text("floors: {roc_auc: high}\n")
    with pytest.raises(GateConfigError, match=r"gate configuration .* is invalid: floors.roc_auc"):
        load_gate_config(path)
