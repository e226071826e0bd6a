"""The GX engine gives the same results with its per-run memo of expectation
configurations as without it (engine.py says why the memo is there)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.datasets import read_as_text
from {{ cookiecutter.package_name }}.validation import engine
from {{ cookiecutter.package_name }}.validation.service import project_validator

from ..conftest import SAMPLE, SETTINGS


def corrupted(raw: pd.DataFrame, feature_columns: list[str]) -> pd.DataFrame:
    """The data with failures of several kinds, whatever its columns: blanks, an unknown
    column, a missing one, and an unreadable value."""
    bad = raw.copy()
    first, *rest = feature_columns
    bad.loc[bad.index[:25], first] = None
    bad.loc[bad.index[25:30], first] = "not a value"
    bad["column_nobody_declared"] = "x"
    return bad.drop(columns=rest[-1:])


def results(frame: pd.DataFrame, memoized: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    """GX's result documents for the frame, without what names the run (ids, times)."""
    validator = project_validator(SETTINGS)
    with monkeypatch.context() as patch:
        if not memoized:
            patch.setattr(engine, "_configurations_memoized", contextlib.nullcontext)
        documents = validator.validate_frame(frame, source="data.csv").documents
    kept: dict[str, Any] = {
        stage: {key: document[key] for key in ("success", "statistics", "results")}
        for stage, document in documents.items()
    }
    return json.dumps(kept, sort_keys=True, default=str)


def test_the_configuration_memo_changes_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """One validation with the memo, one without: the corrupted rows fail some checks
    and pass the others, so both kinds of result are compared (GX's cost is per run,
    hardly per row: the first rows are enough)."""
    raw = read_as_text(SAMPLE).head(500)  # text, as a CSV holds it, whatever the format
    bad = corrupted(raw, project_validator(SETTINGS).contract.feature_columns)
    memoized = results(bad, True, monkeypatch)
    assert memoized == results(bad, False, monkeypatch)
    checks = [item for document in json.loads(memoized).values() for item in document["results"]]
    assert {check["success"] for check in checks} == {True, False}
    from great_expectations.expectations.expectation import Expectation

    configuration = Expectation.__dict__["configuration"]
    assert getattr(configuration.fget, "memoized_per_run", False), "the memo is not in place"
