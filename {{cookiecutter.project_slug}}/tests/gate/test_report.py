from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.gate.config import GateConfig, load_gate_config
from {{ cookiecutter.package_name }}.gate.report import (
    GITHUB_COMMENT_LIMIT,
    ReportContext,
    render_report,
    steps_failed,
)
from {{ cookiecutter.package_name }}.gate.rules import (
    MeasuredCosts,
    compare,
    reproduction_checks,
)
from {{ cookiecutter.package_name }}.layout import CheckRecord, ValidationRecord

from ..conftest import scratch_settings
from .conftest import metrics_document, modified

CONTEXT = ReportContext(project="acme/churn", package="churn", revision="0123456789abcdef")


@pytest.fixture(scope="module")
def config(project_dir: Path) -> GateConfig:
    return load_gate_config(project_dir / "config" / "gates.yaml")


def mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", text, re.DOTALL)


def check_xychart(block: str) -> None:
    """Structural check of a mermaid xychart: header, one x-axis, bars matching its length."""
    lines = [line.strip() for line in block.strip().splitlines()]
    assert lines[0] == "xychart-beta"
    axis = [line for line in lines if line.startswith("x-axis")]
    assert len(axis) == 1
    labels = re.fullmatch(r"x-axis \[(.+)\]", axis[0])
    assert labels
    count = len(labels.group(1).split(","))
    bars = [line for line in lines if line.startswith("bar")]
    assert bars
    for bar in bars:
        values = re.fullmatch(r"bar \[(.+)\]", bar)
        assert values
        numbers = [float(v) for v in values.group(1).split(",")]
        assert len(numbers) == count
        assert all(0 <= n <= 1 for n in numbers)
    for line in lines:
        if line.startswith("title"):
            assert line.count('"') == 2


def test_passing_report_content(config: GateConfig) -> None:
    baseline = metrics_document()
    candidate = metrics_document(roc_auc=0.85)
    comparison = compare(candidate, baseline, config, "origin/main:metrics/metrics.json")
    validation = ValidationRecord(success=True, checks=40, failed=0, source="data/raw/x.csv")
    text = render_report(
        comparison, candidate=candidate, baseline=baseline, validation=validation, context=CONTEXT
    )
    assert text.startswith("<!-- mlops-report:acme/churn -->\n## ✅ Model gate passed")
    assert "| regression | roc_auc | 0.8400 | 0.8500 | +0.0100 |" in text
    assert "| Contract | Two year | 339 | 0.8000 | 0.8000 | +0.0000 |" in text
    assert "✅ data valid: 40 checks" in text
    assert "make compare" in text
    assert "`0123456789ab`" in text


def test_failed_validation_lists_its_failures(config: GateConfig) -> None:
    baseline = metrics_document()
    failures = tuple(
        CheckRecord(
            column=f"col{i}", rule="values within [0, 72]", status="failed", observed=f"{i} | bad"
        )
        for i in range(12)
    )
    validation = ValidationRecord(
        success=False, checks=50, failed=12, results=(CheckRecord(status="passed"), *failures)
    )
    text = render_report(
        compare(baseline, baseline, config, "b"),
        candidate=baseline,
        baseline=baseline,
        validation=validation,
        context=CONTEXT,
    )
    assert "❌ data invalid: 50 checks, 12 failed" in text
    assert "| col0 | values within [0, 72] | 0 \\| bad |  |" in text
    assert "| col9 |" in text
    assert "| col10 |" not in text
    assert "2 more failed checks" in text


def test_failing_report_names_the_metric(config: GateConfig) -> None:
    baseline = metrics_document()
    candidate = modified(baseline, "metrics/recall", 0.5)
    text = render_report(
        compare(candidate, baseline, config, "b"),
        candidate=candidate,
        baseline=baseline,
        validation=None,
        context=CONTEXT,
    )
    assert "## ❌ Model gate failed: recall" in text
    assert "❌ fail (recall fell from 0.6600 to 0.5000" in text
    assert "No data-validation result" in text


def test_report_parses_as_markdown_with_tables(config: GateConfig) -> None:
    baseline = metrics_document()
    text = render_report(
        compare(baseline, baseline, config, "b"),
        candidate=baseline,
        baseline=baseline,
        validation=None,
        context=CONTEXT,
    )
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    assert sum(1 for t in tokens if t.type == "table_open") == 2
    fences = [t for t in tokens if t.type == "fence"]
    assert {t.info for t in fences} == {"mermaid", "bash"}


def test_mermaid_chart_is_well_formed(config: GateConfig) -> None:
    baseline = metrics_document()
    candidate = metrics_document(roc_auc=0.9)
    text = render_report(
        compare(candidate, baseline, config, "b"),
        candidate=candidate,
        baseline=baseline,
        validation=None,
        context=CONTEXT,
    )
    (block,) = mermaid_blocks(text)
    check_xychart(block)
    assert block.count("bar [") == 2


def test_first_model_chart_has_one_series(config: GateConfig) -> None:
    candidate = metrics_document()
    text = render_report(
        compare(candidate, None, config, None),
        candidate=candidate,
        baseline=None,
        validation=None,
        context=CONTEXT,
    )
    assert "no baseline (first model)" in text
    (block,) = mermaid_blocks(text)
    check_xychart(block)
    assert block.count("bar [") == 1


def test_huge_slice_tables_stay_under_github_limit(config: GateConfig) -> None:
    candidate = metrics_document()
    candidate["slices"]["customer"] = {
        f"segment-{i:05d}-with-a-long-name": {"n": 60, "roc_auc": 0.8} for i in range(5000)
    }
    text = render_report(
        compare(candidate, None, config, None),
        candidate=candidate,
        baseline=None,
        validation=None,
        context=CONTEXT,
    )
    assert len(text) < GITHUB_COMMENT_LIMIT
    assert "more slices in the artifact" in text
    assert text.startswith(CONTEXT.marker)


def test_a_failed_step_heads_the_report_even_without_gate_results() -> None:
    """reproduce-check failed, so compare never ran: the report says so and links the run."""
    context = ReportContext("acme/churn", "churn", "0123456789abcdef", "https://ci/run/9")
    reproduction = reproduction_checks(metrics_document(), metrics_document(roc_auc=0.85), 1e-5)
    text = render_report(
        None,
        candidate=metrics_document(roc_auc=0.85),
        baseline=None,
        validation=None,
        context=context,
        failed_steps=steps_failed(
            {"train": {"outcome": "success"}, "reproduce-check": {"outcome": "failure"}}
        ),
        reproduction=reproduction,
    )
    assert text.startswith(
        "<!-- mlops-report:acme/churn -->\n## ❌ pr-report failed at `make reproduce-check`"
    )
    assert "[workflow run](https://ci/run/9)" in text
    assert "No gate results" in text
    assert "❌ re-training does not reproduce the committed metrics (1 differ)" in text
    assert "committed 0.84, re-trained 0.85" in text


def test_a_failed_compare_is_the_gates_own_verdict(config: GateConfig) -> None:
    baseline = metrics_document()
    candidate = modified(baseline, "metrics/recall", 0.5)
    text = render_report(
        compare(candidate, baseline, config, "b"),
        candidate=candidate,
        baseline=baseline,
        validation=None,
        context=CONTEXT,
        failed_steps=("compare",),
    )
    assert "## ❌ Model gate failed: recall" in text


def test_costs_measured_side_by_side_are_shown(config: GateConfig) -> None:
    baseline = metrics_document()
    costs = MeasuredCosts({"p50": 8.0, "p95": 30.0}, {"p50": 4.0, "p95": 6.0}, 9, 8, "models/b")
    text = render_report(
        compare(baseline, baseline, config, "b", measured=costs),
        candidate=baseline,
        baseline=baseline,
        validation=None,
        context=CONTEXT,
    )
    assert "## ❌ Model gate failed: latency p50 (ms)" in text
    assert "Baseline model: models/b." in text
    assert "| latency p95 (ms) | 6.000 | 30.000 |" in text


def test_advisory_costs_are_marked(config: GateConfig) -> None:
    baseline = metrics_document()
    candidate = modified(baseline, "latency_ms/p50", 20.0)
    text = render_report(
        compare(candidate, baseline, config, "b"),
        candidate=candidate,
        baseline=baseline,
        validation=None,
        context=CONTEXT,
    )
    assert "## ✅ Model gate passed" in text
    assert "⚠️ advisory (above the limit: latency p50 (ms) 5.00× baseline" in text


def test_report_command_writes_a_failure_report_when_a_step_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As pr-report's last step runs it: reproduce-check failed, compare never ran."""
    settings = scratch_settings(tmp_path)
    assert main(["--project-dir", str(tmp_path), "report"]) == 1  # nothing to report yet
    steps = {"train": {"outcome": "success"}, "reproduce-check": {"outcome": "failure"}}
    monkeypatch.setenv("CI_STEPS_JSON", json.dumps(steps))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    assert main(["--project-dir", str(tmp_path), "report"]) == 0
    text = (settings.reports_dir / "report.md").read_text()
    assert "## ❌ pr-report failed at `make reproduce-check`" in text
    assert (tmp_path / "summary.md").read_text() == text
