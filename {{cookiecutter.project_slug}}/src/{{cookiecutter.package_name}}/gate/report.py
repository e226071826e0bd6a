"""Render the pull-request report: one Markdown document a reviewer can act on.

Pure string building from the comparison and the metrics documents, so its
content (verdict, tables, chart, marker) is testable without CI. The report
must render on GitHub without image hosting (tables and a mermaid chart) and
stay under GitHub's comment limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..layout import ValidationRecord

if TYPE_CHECKING:  # the comment workflow imports this module without numpy
    from .rules import Check, Comparison, Metrics

GITHUB_COMMENT_LIMIT = 65536
# Leaves room for the truncation notice and the marker.
_BUDGET = GITHUB_COMMENT_LIMIT - 2000
CHART_METRICS = ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy")
MAX_VALIDATION_FAILURES = 10
STATUS_ICON = {"pass": "✅ pass", "fail": "❌ fail", "skip": "⚪ skip", "advisory": "⚠️ advisory"}


@dataclass(frozen=True)
class ReportContext:
    """What the report says about where it comes from."""

    project: str
    package: str
    revision: str | None = None
    run_url: str | None = None

    @property
    def marker(self) -> str:
        """Hidden HTML comment that lets CI find and update its own comment."""
        return report_marker(self.project)


def report_marker(project: str) -> str:
    """The report's first line: the comment workflow finds its comment by it (and its author)."""
    return f"<!-- mlops-report:{project} -->"


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _delta(check: Check) -> str:
    delta = check.delta
    if delta is None:
        return "–"
    return f"{delta:+.4f}" if abs(delta) < 1000 else f"{delta:+,.0f}"


def verdict(comparison: Comparison | None, failed_steps: tuple[str, ...] = ()) -> str:
    """The first line a reviewer reads: a failed CI step first, then the gate's verdict.

    `failed_steps`: the ids of the workflow steps that failed (`steps_failed`). A
    failed `compare` is the gate's own verdict when the comparison says so.
    """
    unexplained = [
        step
        for step in failed_steps
        if not (step == "compare" and comparison is not None and not comparison.passed)
    ]
    if unexplained or comparison is None:
        steps = ", ".join(f"`make {step}`" for step in unexplained) or "an earlier step"
        return f"## ❌ pr-report failed at {steps}"
    if comparison.passed:
        against = comparison.baseline_label or "no baseline (first model)"
        return f"## ✅ Model gate passed against {against}"
    names = ", ".join(sorted({c.subject for c in comparison.failures}))
    return f"## ❌ Model gate failed: {names}"


def checks_table(checks: list[Check]) -> list[str]:
    """Metrics table: baseline, candidate, delta, gate and status per check."""
    lines = [
        "| gate | metric | baseline | candidate | Δ | limit | status |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for c in checks:
        status = STATUS_ICON[c.status] + (
            f" ({c.reason})" if c.reason and c.status != "pass" else ""
        )
        lines.append(
            f"| {c.gate} | {c.subject} | {_fmt(c.baseline)} | {_fmt(c.candidate)} | "
            f"{_delta(c)} | {c.limit} | {status} |"
        )
    return lines


def slice_table(candidate: Metrics, baseline: Metrics | None, metric: str, limit: int) -> list[str]:
    """Per-slice metric, baseline beside candidate, sorted by column then value."""
    rows = []
    base_slices = (baseline or {}).get("slices", {})
    for column, values in sorted(candidate.get("slices", {}).items()):
        for value, stats in sorted(values.items()):
            base = base_slices.get(column, {}).get(value, {}).get(metric)
            cand = stats.get(metric)
            delta = f"{cand - base:+.4f}" if cand is not None and base is not None else "–"
            n = stats.get("n", "–")
            rows.append(f"| {column} | {value} | {n} | {_fmt(base)} | {_fmt(cand)} | {delta} |")
    if not rows:
        return ["_No slices configured._"]
    head = [
        f"| column | value | rows | baseline {metric} | candidate {metric} | Δ |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    tail = (
        [f"| … | {len(rows) - limit} more slices in the artifact | | | | |"]
        if len(rows) > limit
        else []
    )
    return head + rows[:limit] + tail


def mermaid_chart(candidate: Metrics, baseline: Metrics | None) -> list[str]:
    """Bar chart of the main metrics (GitHub renders mermaid natively, no image hosting)."""
    names = [
        m for m in CHART_METRICS if isinstance(candidate.get("metrics", {}).get(m), float | int)
    ]
    if not names:
        return []
    cand = [float(candidate["metrics"][m]) for m in names]
    lines = [
        "```mermaid",
        "xychart-beta",
        '    title "Baseline (first bar) vs candidate (second bar)"',
        f"    x-axis [{', '.join(names)}]",
        '    y-axis "score" 0 --> 1',
    ]
    base_metrics = (baseline or {}).get("metrics", {})
    if all(isinstance(base_metrics.get(m), float | int) for m in names) and baseline:
        lines.append(f"    bar [{', '.join(f'{float(base_metrics[m]):.4f}' for m in names)}]")
    lines.append(f"    bar [{', '.join(f'{v:.4f}' for v in cand)}]")
    lines.append("```")
    return lines


def validation_section(validation: ValidationRecord | None) -> list[str]:
    """The data-validation verdict (written by `validate`) and its first failures."""
    if validation is None:
        return ["_No data-validation result found (run `make data-test`)._"]
    head = "✅ data valid" if validation.success else "❌ data invalid"
    skipped = f", {validation.skipped} skipped" if validation.skipped else ""
    source = f" on `{validation.source}` ({validation.rows:,} rows)" if validation.source else ""
    lines = [f"{head}: {validation.checks} checks, {validation.failed} failed{skipped}{source}."]
    failures = validation.failures
    if failures:
        lines += ["", "| column | rule | observed | offending rows |", "| --- | --- | --- | --- |"]
        for failure in failures[:MAX_VALIDATION_FAILURES]:
            cells = (failure.column, failure.rule, failure.observed, ", ".join(failure.examples))
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        if len(failures) > MAX_VALIDATION_FAILURES:
            more = len(failures) - MAX_VALIDATION_FAILURES
            lines.append(f"| … | {more} more failed checks in the artifact | | |")
    return lines


def _cell(text: str) -> str:
    """Table-safe text: no pipes or line breaks, at most 120 characters."""
    flat = " ".join(str(text).replace("|", "\\|").split())
    return flat if len(flat) <= 120 else flat[:119] + "…"


REPRODUCE = [
    "```bash",
    "make setup",
    "make train        # validate the data, train, evaluate, register (MLflow)",
    "make reproduce-check  # the committed metrics/metrics.json is what training gives",
    "make compare      # apply the gates in config/gates.yaml",
    "make report       # write reports/report.md",
    "```",
    "",
    "Plots (ROC, precision-recall, confusion matrix, calibration) are in the run's "
    "`report` artifact.",
]


def steps_failed(steps: dict[str, Any]) -> tuple[str, ...]:
    """Ids of the failed steps in GitHub's `steps` context (`toJSON(steps)`), in order."""
    return tuple(
        name
        for name, step in steps.items()
        if isinstance(step, dict) and step.get("outcome") == "failure"
    )


def measured_section(comparison: Comparison | None) -> list[str]:
    """The latency and size of both models as timed side by side in this run."""
    costs = None if comparison is None else comparison.measured
    if costs is None:
        return []
    base, cand = costs.baseline_latency_ms, costs.candidate_latency_ms
    rows = [
        ("latency p50 (ms)", base.get("p50"), cand.get("p50")),
        ("latency p95 (ms)", base.get("p95"), cand.get("p95")),
        ("model size (bytes)", float(costs.baseline_size_bytes), float(costs.candidate_size_bytes)),
    ]
    return [
        "",
        "### Serving cost, measured side by side in this run",
        "",
        f"Baseline model: {costs.baseline_model}.",
        "",
        "| measure | baseline | candidate |",
        "| --- | ---: | ---: |",
        *(f"| {name} | {_fmt(b, 3)} | {_fmt(c, 3)} |" for name, b, c in rows),
    ]


def reproduction_section(checks: list[Check] | None) -> list[str]:
    """`make reproduce-check`'s verdict: the committed metrics against the re-trained ones."""
    if checks is None:
        return []
    failures = [c for c in checks if c.status == "fail"]
    head = (
        "✅ the committed `metrics/metrics.json` was reproduced"
        if not failures
        else f"❌ re-training does not reproduce the committed metrics ({len(failures)} differ)"
    )
    return ["", "### Reproducibility", "", head, "", *checks_table(failures or checks)]


def render_report(
    comparison: Comparison | None,
    *,
    candidate: Metrics | None,
    baseline: Metrics | None,
    validation: ValidationRecord | None,
    context: ReportContext,
    slice_metric: str = "roc_auc",
    failed_steps: tuple[str, ...] = (),
    reproduction: list[Check] | None = None,
) -> str:
    """The whole Markdown report, shrinking the slice table until it fits GitHub's limit.

    Written whatever happened before it: without a comparison (a step failed before
    `compare`) it says which step failed and shows what there is.
    """
    head = [context.marker, verdict(comparison, failed_steps), ""]
    if context.revision or context.run_url:
        revision = f"Candidate: `{context.revision[:12]}`" if context.revision else "Candidate"
        run = f" · [workflow run]({context.run_url})" if context.run_url else ""
        head += [f"{revision}{run}", ""]
    if comparison is None:
        head += ["> No gate results: the run stopped before `make compare` finished."]
    else:
        head += [f"> {note}" for note in comparison.notes]
    gates = [] if comparison is None else ["", "### Gates", "", *checks_table(comparison.checks)]
    gates += measured_section(comparison) + reproduction_section(reproduction)
    chart = (
        [] if candidate is None else ["", "### Metrics", "", *mermaid_chart(candidate, baseline)]
    )
    data = ["", "### Data validation", "", *validation_section(validation)]
    reproduce = ["", "### Reproduce", "", *REPRODUCE]
    text = ""
    for limit in (200, 50, 10):
        slices = []
        if candidate is not None:
            slices = ["", f"### Slices ({slice_metric})", ""]
            slices += slice_table(candidate, baseline, slice_metric, limit)
        text = "\n".join([*head, *gates, *chart, *slices, *data, *reproduce]) + "\n"
        if len(text) <= _BUDGET:
            return text
    notice = "\n\n_Report truncated to fit GitHub's comment limit; the artifact has it all._\n"
    return text[:_BUDGET] + notice


def console_table(checks: list[Check]) -> str:
    """Plain-text version of the gate table for terminals and CI logs."""
    rows = [("gate", "metric", "baseline", "candidate", "delta", "limit", "status")]
    for c in checks:
        rows.append(
            (c.gate, c.subject, _fmt(c.baseline), _fmt(c.candidate), _delta(c), c.limit, c.status)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
