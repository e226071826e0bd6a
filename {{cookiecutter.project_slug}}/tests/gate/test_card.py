"""The model card: built from the pipeline's records, it names the weakest slice and the bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.gate.card import (
    Calibration,
    CardConfig,
    CardFacts,
    build_card,
    load_card_config,
    slice_gaps,
    to_html,
    to_markdown,
    weakest_slice,
)
from {{ cookiecutter.package_name }}.gate.config import GateConfig
from {{ cookiecutter.package_name }}.layout import (
    ModelMetadata,
    ModelTestResult,
    ModelTestsRecord,
    TrackedModel,
)

from ..conftest import SETTINGS

SLICES: dict[str, Any] = {
    "Contract": {
        "Month-to-month": {"n": 800, "roc_auc": 0.77, "status": "scored"},
        "One year": {"n": 280, "roc_auc": 0.70, "status": "scored"},
        "Two year": {"n": 340, "roc_auc": None, "status": "too_small"},
    },
    "gender": {
        "Female": {"n": 700, "roc_auc": 0.857, "status": "scored"},
        "Male": {"n": 700, "roc_auc": 0.852, "status": "scored"},
    },
}


def facts(**changes: Any) -> CardFacts:
    base = CardFacts(
        config=CardConfig(title="Churn <model>", intended_use="Rank customers by `risk`."),
        metadata=ModelMetadata(
            estimator="sklearn.linear_model.LogisticRegression",
            mlflow=TrackedModel(run_id="abc", version="3", registered_model_name="churn"),
        ),
        metrics={
            "metrics": {"roc_auc": 0.85, "log_loss": 0.41, "recall": 0.55},
            "slices": SLICES,
            "data": {"rows": {"train": 5634, "test": 1409}, "fingerprint": "f" * 64},
        },
        gates=GateConfig(
            floors={"roc_auc": 0.8, "log_loss": 0.5, "recall": 0.6},
            max_regression={"roc_auc": 0.01},
        ),
        contract_name="telco",
        contract_version=1,
        target="Churn",
        positive_label="Yes",
        target_rate=0.265,
        rows_total=7043,
        calibration=Calibration.measure(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.7, 0.3])),
        model_tests=ModelTestsRecord(
            model_version="3",
            finished_at="now",
            results=(
                ModelTestResult(name="test_metric_floors", outcome="passed"),
                ModelTestResult(name="test_slice_gap[Contract]", outcome="failed", message="gap"),
            ),
        ),
        tracking="http://tracking.example",
    )
    return CardFacts(**{**base.__dict__, **changes})


def test_the_card_names_the_weakest_slice_and_the_largest_gap() -> None:
    text = to_markdown(build_card(facts()))
    assert "Weakest slice: `Contract = One year` (roc_auc 0.7000)." in text
    assert "Largest gap: `Contract`, roc_auc 0.0700 between `Month-to-month`" in text
    assert "| Contract | Two year | 340 | – | – | – | too small |" in text


def test_the_card_shows_each_metric_beside_the_gate_thresholds() -> None:
    text = to_markdown(build_card(facts()))
    assert "| roc_auc | 0.8500 | ≥ 0.8 | ✅ met | 0.01 |" in text
    assert "| log_loss | 0.4100 | ≤ 0.5 | ✅ met | – |" in text
    assert "| recall | 0.5500 | ≥ 0.6 | ❌ missed | – |" in text


def test_the_card_lists_the_model_tests_and_the_registry_version() -> None:
    text = to_markdown(build_card(facts()))
    assert "`make model-test` ran 2 checks (1 failed, 1 passed)" in text
    assert "| test_slice_gap[Contract] | ❌ failed | gap |" in text
    assert "Registered model `churn` version 3 (MLflow run `abc`, http://tracking.example)" in text
    assert "# Churn <model> — version 3" in text
    assert "Target `Churn`: 26.5% of rows are `Yes`." in text


def test_without_model_test_results_the_card_says_how_to_get_them() -> None:
    text = to_markdown(build_card(facts(model_tests=None)))
    assert "run `make model-test` before `make model-card`" in text


def test_tests_of_another_model_version_are_flagged() -> None:
    record = ModelTestsRecord(model_version="2", results=())
    assert "not 3: re-run them" in to_markdown(build_card(facts(model_tests=record)))


def test_html_is_self_contained_and_escaped() -> None:
    page = to_html(build_card(facts()))
    assert page.startswith("<!doctype html>")
    assert "<title>Churn &lt;model&gt; — version 3</title>" in page
    assert "<code>risk</code>" in page
    assert "http" not in page.split("<body>")[0].replace("http://tracking", "")


def test_calibration_bins_and_expected_error() -> None:
    calibration = Calibration.measure(np.array([0, 0, 1, 1]), np.array([0.05, 0.15, 0.95, 0.85]))
    assert [b[4] for b in calibration.bins] == [1, 1, 1, 1]
    assert calibration.expected_error == pytest.approx(0.1)


def test_slice_helpers_skip_unscored_slices() -> None:
    assert weakest_slice(SLICES, "roc_auc") == ("Contract", "One year", 0.70)
    assert [g.column for g in slice_gaps(SLICES, "roc_auc")] == ["Contract", "gender"]


def test_the_shipped_card_config_loads_and_a_bad_one_is_named(tmp_path: Path) -> None:
    assert load_card_config(SETTINGS.model_card_config_path).intended_use
    bad = tmp_path / "card.yaml"
    bad.write_text("title: x\n")
    with pytest.raises(ConfigError, match="intended_use"):
        load_card_config(bad)
