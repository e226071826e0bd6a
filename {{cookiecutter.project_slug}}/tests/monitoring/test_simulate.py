from __future__ import annotations

import functools

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.errors import DriftConfigError, DriftError
from {{ cookiecutter.package_name }}.monitoring.config import DriftConfig, ValueRange
from {{ cookiecutter.package_name }}.monitoring.frames import numeric_view
from {{ cookiecutter.package_name }}.monitoring.simulate import (
    flip_labels,
    resample,
    shift_numeric,
    simulate,
)

from .. import toy


def contract() -> DataContract:
    return toy.contract()


@functools.cache
def raw_sample() -> pd.DataFrame:
    return toy.raw(2000)


def test_resample_is_seeded_and_sized() -> None:
    a = resample(raw_sample(), 500, seed=1)
    b = resample(raw_sample(), 500, seed=1)
    assert len(a) == 500
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(resample(raw_sample(), 500, seed=2))


def test_shift_multiplies_and_stays_in_range() -> None:
    raw = raw_sample().head(300)
    shifted = shift_numeric(raw, contract(), {"MonthlyCharges": 1.5, "tenure": 2.0})
    before = numeric_view(raw["MonthlyCharges"])
    after = numeric_view(shifted["MonthlyCharges"])
    assert (after / before).round(3).eq(1.5).all()
    tenure = numeric_view(shifted["tenure"])
    assert tenure.max() <= contract().numeric["tenure"].max  # clipped to the contract
    assert shifted["tenure"].str.fullmatch(r"\d+").all()  # still integers
    assert shifted["gender"].equals(raw["gender"])


def test_shift_keeps_missing_cells() -> None:
    raw = raw_sample()
    blanks = raw["TotalCharges"].str.strip().eq("")
    shifted = shift_numeric(raw, contract(), {"TotalCharges": 1.1})
    assert shifted.loc[blanks, "TotalCharges"].tolist() == raw.loc[blanks, "TotalCharges"].tolist()


def test_flip_changes_only_the_segment() -> None:
    raw = raw_sample()
    flipped = flip_labels(raw, contract(), {"Contract": "Two year"})
    inside = raw["Contract"].eq("Two year")
    assert (flipped.loc[inside, "Churn"] != raw.loc[inside, "Churn"]).all()
    assert flipped.loc[~inside, "Churn"].equals(raw.loc[~inside, "Churn"])


def test_integer_segment_values_match_text_data() -> None:
    flipped = flip_labels(raw_sample(), contract(), {"SeniorCitizen": 1})
    seniors = raw_sample()["SeniorCitizen"].eq("1")
    assert (flipped.loc[seniors, "Churn"] != raw_sample().loc[seniors, "Churn"]).all()


def test_a_range_segment_flips_the_rows_whose_number_is_in_it() -> None:
    """All-numeric data repeats no value: its segment is a range of one of its numbers."""
    raw = raw_sample()
    flipped = flip_labels(raw, contract(), {"tenure": ValueRange(min=10, max=20)})
    tenure = numeric_view(raw["tenure"])
    inside = tenure.between(10, 20)
    assert inside.any()
    assert not inside.all()
    assert (flipped.loc[inside, "Churn"] != raw.loc[inside, "Churn"]).all()
    assert flipped.loc[~inside, "Churn"].equals(raw.loc[~inside, "Churn"])
    above = flip_labels(raw, contract(), {"tenure": ValueRange(min=60), "Contract": "Two year"})
    changed = above["Churn"] != raw["Churn"]
    assert changed.equals(tenure.ge(60) & raw["Contract"].eq("Two year"))
    with pytest.raises(DriftError, match=r"segment \{'tenure': '500\.\.'\} matches no row"):
        flip_labels(raw, contract(), {"tenure": ValueRange(min=500)})


@pytest.mark.parametrize(
    ("segment", "message"),
    [
        ({"Contract": {"min": 1}}, "'Contract' has a range but is not a numeric column"),
        ({"tenure": {}}, "a range needs min, max or both"),
        ({"tenure": {"min": 5, "max": 1}}, r"min \(5.0\) must not exceed max \(1.0\)"),
    ],
    ids=["range-on-a-category", "no-bound", "min-above-max"],
)
def test_a_bad_range_segment_is_refused_naming_it(segment: dict[str, object], message: str) -> None:
    def load() -> None:
        config = DriftConfig.model_validate({"simulation": {"concept_drift": {"segment": segment}}})
        config.check_against(contract())

    with pytest.raises((ValueError, DriftConfigError), match=message):
        load()


def test_a_segment_matching_nothing_is_an_error() -> None:
    with pytest.raises(DriftError, match="matches no row"):
        flip_labels(raw_sample(), contract(), {"Contract": "Ten years"})


def test_kinds_need_their_parameters() -> None:
    with pytest.raises(DriftError, match="needs factors"):
        simulate(raw_sample(), contract(), "data", rows=10, seed=0)
    with pytest.raises(DriftError, match="needs a segment"):
        simulate(raw_sample(), contract(), "concept", rows=10, seed=0)
    with pytest.raises(DriftError, match="not a numeric column"):
        shift_numeric(raw_sample(), contract(), {"gender": 2.0})


def test_data_drift_leaves_outcomes_unknown() -> None:
    drifted = simulate(raw_sample(), contract(), "data", rows=100, seed=0, factors={"tenure": 0.5})
    assert "Churn" not in drifted.columns
    assert list(drifted.columns) == [c for c in raw_sample().columns if c != "Churn"]
