"""Each model check passes a sound model and fails, by name, a model with the flaw it targets."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.train import checks
from {{ cookiecutter.package_name }}.train.config import (
    DirectionalCase,
    MinimumFunctionalityCase,
    Robustness,
    SliceGap,
)

from .. import toy


class TenureModel:
    """Sound by construction: churn falls with tenure, rises with a monthly contract."""

    def predict_proba(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        p = 0.6 - 0.006 * frame["tenure"].to_numpy(dtype=float)
        p = p + 0.2 * (frame["Contract"] == "Month-to-month").to_numpy()
        p = np.clip(p, 0.01, 0.99)
        return np.column_stack([1 - p, p])


class ConstantModel:
    def predict_proba(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        return np.tile([0.74, 0.26], (len(frame), 1))


class IdLeakModel(TenureModel):
    def predict_proba(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        base = super().predict_proba(frame)[:, 1]
        p = np.clip(base + 0.01 * frame["customerID"].str.len().to_numpy(), 0, 1)
        return np.column_stack([1 - p, p])


class JumpyModel:
    def predict_proba(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        p = (frame["MonthlyCharges"].to_numpy(dtype=float) * 37.0) % 1.0
        return np.column_stack([1 - p, p])


@pytest.fixture(scope="module")
def contract() -> DataContract:
    return toy.contract()


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return toy.typed(400)


def test_metric_thresholds_name_each_miss() -> None:
    bars = {"roc_auc": 0.8, "recall": 0.5, "brier": 0.2}
    good = checks.check_metric_thresholds({"roc_auc": 0.85, "recall": 0.6, "brier": 0.1}, bars)
    assert good.passed
    bad = checks.check_metric_thresholds({"roc_auc": 0.5, "recall": 0.6, "brier": 0.3}, bars)
    assert not bad.passed
    assert "metric thresholds" in bad.message
    assert "roc_auc 0.5000 < floor 0.8" in bad.message
    assert "brier 0.3000 > ceiling 0.2" in bad.message
    assert "recall" not in bad.message


def test_slice_gap() -> None:
    entry = {"status": "scored", "roc_auc": 0.9}
    per_value = {"a": entry, "b": {**entry, "roc_auc": 0.7}, "c": {"status": "too_small"}}
    bad = checks.check_slice_gap("col", per_value, SliceGap(metric="roc_auc", max_gap=0.1))
    assert not bad.passed
    assert "slice gap of col" in bad.message
    assert "'a' vs 'b'" in bad.message
    assert checks.check_slice_gap("col", per_value, SliceGap(max_gap=0.25)).passed
    assert checks.check_slice_gap("col", {"a": entry}, SliceGap()).passed


def test_id_invariance(rows: pd.DataFrame) -> None:
    assert checks.check_id_invariance(TenureModel(), rows, "customerID").passed
    leak = checks.check_id_invariance(IdLeakModel(), rows, "customerID")
    assert not leak.passed
    assert "invariance to customerID" in leak.message


DIRECTIONAL = DirectionalCase(
    name="monthly contract raises churn",
    column="Contract",
    from_value="Two year",
    to_value="Month-to-month",
    expect="increase",
    min_share=0.95,
)


def test_directional(rows: pd.DataFrame) -> None:
    assert checks.check_directional(TenureModel(), rows, DIRECTIONAL).passed
    flat = checks.check_directional(ConstantModel(), rows, DIRECTIONAL)
    assert not flat.passed
    assert "directional: monthly contract raises churn" in flat.message
    wrong_way = DIRECTIONAL.model_copy(update={"expect": "decrease"})
    assert not checks.check_directional(TenureModel(), rows, wrong_way).passed


def test_minimum_functionality(rows: pd.DataFrame, contract: DataContract) -> None:
    base = checks.typical_row(rows, contract)
    assert len(base) == 1
    assert set(contract.feature_columns) <= set(base.columns)
    churner = MinimumFunctionalityCase(
        name="new monthly customer churns",
        set={"tenure": 1, "Contract": "Month-to-month"},
        expect="positive",
    )
    stayer = MinimumFunctionalityCase(
        name="old customer stays", set={"tenure": 72, "Contract": "Two year"}, expect="negative"
    )
    assert checks.check_minimum_functionality(TenureModel(), base, churner, 0.5).passed
    assert checks.check_minimum_functionality(TenureModel(), base, stayer, 0.5).passed
    miss = checks.check_minimum_functionality(ConstantModel(), base, churner, 0.5)
    assert not miss.passed
    assert "minimum functionality: new monthly customer churns" in miss.message


def test_robustness(rows: pd.DataFrame, contract: DataContract) -> None:
    spec = Robustness(noise=0.05, max_mean_prob_change=0.02)
    assert checks.check_robustness(TenureModel(), rows, contract, spec, seed=0).passed
    jumpy = checks.check_robustness(JumpyModel(), rows, contract, spec, seed=0)
    assert not jumpy.passed
    assert "robustness to numeric noise" in jumpy.message


def test_determinism() -> None:
    assert checks.check_determinism({"roc_auc": 0.8}, {"roc_auc": 0.8}).passed
    differ = checks.check_determinism({"roc_auc": 0.8}, {"roc_auc": 0.81})
    assert not differ.passed
    assert "determinism" in differ.message
    assert "roc_auc" in differ.message
