"""Comparable views of raw columns: the same label whatever the spelling or the source."""

from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.monitoring.frames import categorical_view, numeric_view


def test_text_labels_are_the_texts_and_blanks_are_missing() -> None:
    raw = pd.Series(["Yes", "No", " ", "", None, "Yes"], index=[3, 3, 4, 5, 6, 7], name="Partner")
    view = categorical_view(raw)
    assert view.tolist() == ["Yes", "No", None, None, None, "Yes"]
    assert view.index.tolist() == [3, 3, 4, 5, 6, 7]  # a repeated index is kept as it is
    assert view.name == "Partner"


def test_integer_columns_get_one_spelling_from_text_or_numbers() -> None:
    text = pd.Series(["1", "0", "1.0", "0.0", "2", np.nan])
    numbers = pd.Series([1, 0, 1.0, 0.0, 2, None], dtype=object)
    assert categorical_view(text, integer=True).tolist() == ["1", "0", "1", "0", "2", None]
    assert categorical_view(numbers, integer=True).tolist() == ["1", "0", "1", "0", "2", None]


def test_values_that_compare_equal_keep_their_own_labels() -> None:
    mixed = pd.Series([True, 1, "1", 1.5, "x"], dtype=object)
    assert categorical_view(mixed).tolist() == ["True", "1", "1", "1.5", "x"]
    assert categorical_view(mixed, integer=True).tolist() == ["True", "1", "1", "1.5", "x"]


def test_blank_text_is_missing_in_numeric_views_too() -> None:
    raw = pd.Series(["1.5", " ", "\t", "", None, np.nan, "2", "NA"], name="MonthlyCharges")
    assert numeric_view(raw, ("NA",)).isna().tolist() == [
        False,
        True,
        True,
        True,
        True,
        True,
        False,
        True,
    ]
    assert numeric_view(pd.Series([1.5, None, 2])).tolist()[0] == 1.5
