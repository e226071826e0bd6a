from __future__ import annotations

import json
import re

import pytest

from {{ cookiecutter.package_name }}.monitoring.detect import (
    DriftResult,
    Histogram,
    detect_drift,
)
from {{ cookiecutter.package_name }}.monitoring.frames import Sample, feature_view
from {{ cookiecutter.package_name }}.monitoring.render import (
    histogram_svg,
    to_dict,
    to_html,
    to_markdown,
)
from {{ cookiecutter.package_name }}.monitoring.simulate import simulate

from .conftest import (
    contract,
    drift_config,
    raw_sample,
    reference_sample,
    roles,
    shifted_columns,
)


@pytest.fixture(scope="module")
def result() -> DriftResult:
    config = drift_config()
    raw = simulate(
        raw_sample(), contract(), "data", rows=2000, seed=7, factors=config.simulation.data_drift
    )
    if roles().categorical:  # an unseen category the page shows: markup in the data
        raw.loc[raw.index[:150], roles().categorical] = "<script>alert(1)</script>"
    current = Sample(
        features=feature_view(raw, contract()),
        description="simulated",
    )
    return detect_drift(reference_sample(), current, contract(), config)


def test_markdown_names_the_drifted_columns_first(result: DriftResult) -> None:
    text = to_markdown(result)
    assert text.startswith("# Drift report")
    assert "drift: DETECTED" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "DRIFT" in line]
    assert {row.split("|")[1].strip() for row in rows} >= shifted_columns()
    assert "How to read this report" in text


def test_html_is_self_contained(result: DriftResult) -> None:
    page = to_html(result)
    assert page.startswith("<!DOCTYPE html>")
    for outside in ("http://", "https://", "<script", "<link", "url(", "src="):
        assert outside not in page, outside
    assert page.count("<svg") == len(result.columns)
    assert all(column in page for column in shifted_columns())
    if roles().categorical:
        assert "&lt;script&gt;" in page  # data is escaped, never executed


def test_html_lists_drifted_columns_before_the_others(result: DriftResult) -> None:
    page = to_html(result)
    titles = re.findall(r'<h3>([^<]+) <span class="badge s-(\w+)">', page)
    statuses = [status for _, status in titles]
    assert statuses == sorted(statuses, key=["drift", "warn", "ok"].index)
    assert shifted_columns() <= {name for name, status in titles if status == "drift"}


def test_json_is_strict_and_complete(result: DriftResult) -> None:
    doc = json.loads(json.dumps(to_dict(result), allow_nan=False))
    assert doc["failed"] is True
    assert shifted_columns() <= set(doc["drifted"])
    assert len(doc["columns"]) == len(result.columns)
    assert doc["thresholds"]["correction"] == "holm"


def test_histogram_svg_draws_two_bars_per_bin() -> None:
    svg = histogram_svg(Histogram(("a", "b", "c"), (0.2, 0.3, 0.5), (0.5, 0.3, 0.2)))
    assert svg.count("<rect") == 6
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
