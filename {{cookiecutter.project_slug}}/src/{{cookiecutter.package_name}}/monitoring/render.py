"""Turn a DriftResult into JSON (for machines), Markdown (for CI summaries) and HTML.

The HTML page is self-contained: inline CSS and inline SVG histograms, no
script and no external resource, so it opens offline, from a CI artifact or an
e-mail attachment. Pure string building.
"""

from __future__ import annotations

import html
from typing import Any

from .concept import ConceptResult, MetricCheck
from .detect import ColumnCheck, DriftResult, Histogram

_STATUS_WORD = {"ok": "ok", "warn": "warn", "drift": "DRIFT"}
_GUIDE = (
    "Each column of the data contract is compared between the reference (training data) "
    "and the current data: Kolmogorov-Smirnov for numeric columns, chi-squared on counts for "
    "categorical ones, and the Population Stability Index (PSI) for both. P-values are adjusted "
    "for testing many columns at once. A column drifts when its adjusted p-value is below alpha "
    "(the difference is unlikely to be chance) or its PSI reaches the alert level (the "
    "difference is large); a PSI between the warn and alert levels is a warning. With many "
    "thousands of rows, tiny shifts become significant: read the PSI and the change column to "
    "judge whether a drift matters. With labels, a live metric degrades when it fell by more "
    "than its tolerance and by more than sampling noise on that many labels explains."
)


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _p(value: float) -> str:
    return f"{value:.2g}"


def _live(check: MetricCheck) -> str:
    error = "" if check.standard_error is None else f" ± {check.standard_error:.3f}"
    return _number(check.live) + error


def _cell(text: str) -> str:
    """Markdown table cell: a pipe in a category name must not split the row."""
    return text.replace("|", "\\|")


def to_dict(result: DriftResult) -> dict[str, Any]:
    """Plain data for reports/drift.json (stable keys, no NaN)."""

    def column(c: ColumnCheck) -> dict[str, Any]:
        return {
            "column": c.column,
            "role": c.role,
            "test": c.test,
            "statistic": c.statistic,
            "p_value": c.p_value,
            "p_adjusted": c.p_adjusted,
            "psi": c.psi,
            "status": c.status,
            "reasons": list(c.reasons),
            "change": c.change,
            "unseen": list(c.unseen),
            "reference_rows": c.reference_rows,
            "current_rows": c.current_rows,
        }

    return {
        "status": result.status,
        "failed": result.failed,
        "headline": result.headline(),
        "reference": {"source": result.reference, "rows": result.reference_rows},
        "current": {"source": result.current, "rows": result.current_rows},
        "thresholds": {
            "alpha": result.alpha,
            "correction": result.correction,
            "psi_warn": result.psi_warn,
            "psi_alert": result.psi_alert,
        },
        "drifted": result.drifted_columns,
        "warned": result.warned_columns,
        "missing_drifted": result.missing_drifted,
        "degraded_metrics": result.degraded_metrics,
        "columns": [column(c) for c in result.columns],
        "missing": [
            {
                "column": m.column,
                "reference_rate": m.reference_rate,
                "current_rate": m.current_rate,
                "p_value": m.p_value,
                "p_adjusted": m.p_adjusted,
                "drifted": m.drifted,
            }
            for m in result.missing
        ],
        "concept": _concept_dict(result.concept),
        "notes": list(result.notes),
    }


def _concept_dict(concept: ConceptResult | None) -> dict[str, Any] | None:
    if concept is None:
        return None
    return {
        "rows": concept.rows,
        "positives": concept.positives,
        "note": concept.note,
        "metrics": [
            {
                "name": c.name,
                "training": c.training,
                "live": c.live,
                "drop": c.drop,
                "max_drop": c.max_drop,
                "standard_error": c.standard_error,
                "p_value": c.p_value,
                "p_adjusted": c.p_adjusted,
                "degraded": c.degraded,
            }
            for c in concept.checks
        ],
    }


def _ordered(result: DriftResult) -> list[ColumnCheck]:
    rank = {"drift": 0, "warn": 1, "ok": 2}
    return sorted(result.columns, key=lambda c: (rank[c.status], -c.psi))


def _column_row(c: ColumnCheck) -> str:
    cells = [
        _cell(c.column),
        c.role,
        "KS" if c.test == "ks" else "chi²",
        f"{c.statistic:.3f}",
        _p(c.p_adjusted),
        f"{c.psi:.3f}",
        _cell(c.change),
        _STATUS_WORD[c.status],
        _cell("; ".join(c.reasons) or "-"),
    ]
    return "| " + " | ".join(cells) + " |"


def _concept_lines(concept: ConceptResult | None) -> list[str]:
    if concept is None:
        return []
    lines = ["", "## Concept drift: live metrics against training", ""]
    lines.append(f"{concept.rows} labelled rows, {concept.positives} positive.")
    if concept.note:
        lines += ["", f"Note: {concept.note}."]
    if concept.checks:
        lines += [
            "",
            "| metric | training | live (± s.e.) | drop | max drop | p (adjusted) | status |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for c in concept.checks:
            status = "DEGRADED" if c.degraded else "ok"
            lines.append(
                f"| {c.name} | {_number(c.training)} | {_live(c)} | {_number(c.drop)} "
                f"| {c.max_drop:g} | {_p(c.p_adjusted)} | {status} |"
            )
    return lines


def to_markdown(result: DriftResult) -> str:
    """The summary for reports/drift.md and the CI job summary."""
    lines = [
        "# Drift report",
        "",
        f"**{result.headline()}**",
        "",
        f"- reference: {result.reference} ({result.reference_rows:,} rows)",
        f"- current: {result.current} ({result.current_rows:,} rows)",
        f"- thresholds: alpha {result.alpha:g} ({result.correction}-adjusted), "
        f"PSI warn {result.psi_warn:g} / alert {result.psi_alert:g}",
    ]
    if result.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in result.notes)]
    if result.columns:
        lines += [
            "",
            "## Columns",
            "",
            "| column | kind | test | statistic | p (adjusted) | PSI | change | status | why |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *(_column_row(c) for c in _ordered(result)),
        ]
    if result.missing:
        lines += [
            "",
            "## Missing values",
            "",
            "| column | reference rate | current rate | p (adjusted) | status |",
            "| --- | --- | --- | --- | --- |",
            *(
                f"| {m.column} | {m.reference_rate:.2%} | {m.current_rate:.2%} "
                f"| {_p(m.p_adjusted)} | {'DRIFT' if m.drifted else 'ok'} |"
                for m in result.missing
            ),
        ]
    lines += _concept_lines(result.concept)
    lines += ["", "## How to read this report", "", _GUIDE, ""]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1f2328;padding:0 1rem}
h1{margin-bottom:.2rem}
.headline{font-size:1.15rem;font-weight:600;padding:.6rem .9rem;border-radius:6px}
.s-drift{background:#ffebe9;color:#82071e}.s-warn{background:#fff8c5;color:#7d4e00}
.s-ok,.s-insufficient_data{background:#dafbe1;color:#116329}
table{border-collapse:collapse;width:100%;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.badge{font-weight:600;padding:0 .4rem;border-radius:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:1rem}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.6rem}
.card h3{margin:.1rem 0 .3rem;font-size:1rem}
.meta{color:#57606a;font-size:.85rem}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .8rem}
"""
_REF_COLOUR = "#6e7781"
_CUR_COLOUR = "#e16f24"


def histogram_svg(histogram: Histogram, width: int = 320, height: int = 130) -> str:
    """Side-by-side bars of reference and current shares, as an inline SVG element."""
    count = max(len(histogram.labels), 1)
    top = max([*histogram.reference, *histogram.current, 1e-9])
    plot_height = height - 22
    slot = width / count
    bar = max(slot / 2 - 1, 0.5)
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, (ref, cur) in enumerate(zip(histogram.reference, histogram.current, strict=True)):
        x = i * slot
        for offset, share, colour in ((0.0, ref, _REF_COLOUR), (bar, cur, _CUR_COLOUR)):
            h = plot_height * share / top
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{plot_height - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{html.escape(histogram.labels[i])}: '
                f"{share:.1%}</title></rect>"
            )
    parts.append(f'<line x1="0" y1="{plot_height}" x2="{width}" y2="{plot_height}" stroke="#888"/>')
    if histogram.axis == ("", ""):  # categories: each under its pair of bars
        fits = max(int(slot / 6), 3)
        for i, label in enumerate(histogram.labels):
            text = html.escape(label if len(label) <= fits else label[: fits - 1] + "…")
            parts.append(
                f'<text x="{i * slot + slot / 2:.1f}" y="{height - 6}" font-size="10" '
                f'text-anchor="middle">{text}</text>'
            )
    else:  # numeric: the two ends of the range
        first, last = (html.escape(end) for end in histogram.axis)
        parts.append(f'<text x="0" y="{height - 6}" font-size="10">{first}</text>')
        parts.append(
            f'<text x="{width}" y="{height - 6}" font-size="10" text-anchor="end">{last}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _card(c: ColumnCheck) -> str:
    e = html.escape
    reasons = "<br>".join(e(r) for r in c.reasons) or "no drift"
    return (
        f'<div class="card"><h3>{e(c.column)} <span class="badge s-{c.status}">'
        f"{_STATUS_WORD[c.status]}</span></h3>"
        f'<div class="meta">{e(c.role)} · {"KS" if c.test == "ks" else "chi²"} '
        f"{c.statistic:.3f} · p (adj.) {_p(c.p_adjusted)} · PSI {c.psi:.3f}</div>"
        f"{histogram_svg(c.histogram)}"
        f'<div class="meta">{e(c.change)}<br>{reasons}</div></div>'
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def to_html(result: DriftResult) -> str:
    """A self-contained page: headline, histograms of every column, missing values, concept."""
    e = html.escape
    sections = [
        f'<h1>Drift report</h1><p class="headline s-{result.status}">{e(result.headline())}</p>',
        f'<p class="meta">reference: {e(result.reference)} ({result.reference_rows:,} rows)<br>'
        f"current: {e(result.current)} ({result.current_rows:,} rows)<br>"
        f"alpha {result.alpha:g} ({e(result.correction)}-adjusted), "
        f"PSI warn {result.psi_warn:g} / alert {result.psi_alert:g}</p>",
    ]
    if result.notes:
        sections.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in result.notes) + "</ul>")
    if result.columns:
        sections.append(
            '<h2>Columns</h2><p class="legend">'
            f'<span style="background:{_REF_COLOUR}"></span>reference'
            f'<span style="background:{_CUR_COLOUR}"></span>current</p>'
            '<div class="grid">' + "".join(_card(c) for c in _ordered(result)) + "</div>"
        )
    if result.missing:
        rows = [
            [
                e(m.column),
                f"{m.reference_rate:.2%}",
                f"{m.current_rate:.2%}",
                _p(m.p_adjusted),
                "DRIFT" if m.drifted else "ok",
            ]
            for m in result.missing
        ]
        sections.append(
            "<h2>Missing values</h2>"
            + _table(["column", "reference", "current", "p (adjusted)", "status"], rows)
        )
    concept = result.concept
    if concept is not None:
        note = f"<p>{e(concept.note)}</p>" if concept.note else ""
        rows = [
            [
                e(c.name),
                _number(c.training),
                _live(c),
                _number(c.drop),
                f"{c.max_drop:g}",
                _p(c.p_adjusted),
                "DEGRADED" if c.degraded else "ok",
            ]
            for c in concept.checks
        ]
        sections.append(
            "<h2>Concept drift: live metrics against training</h2>"
            f"<p>{concept.rows} labelled rows, {concept.positives} positive.</p>{note}"
            + (
                _table(
                    [
                        "metric",
                        "training",
                        "live (± s.e.)",
                        "drop",
                        "max drop",
                        "p (adj.)",
                        "status",
                    ],
                    rows,
                )
                if rows
                else ""
            )
        )
    sections.append(f"<h2>How to read this report</h2><p>{e(_GUIDE)}</p>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Drift report: {e(result.status)}</title><style>{_CSS}</style></head><body>"
        + "".join(sections)
        + "</body></html>\n"
    )
