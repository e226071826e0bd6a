"""The validation reports: a JSON result and a self-contained HTML page.

GX's Data Docs load their CSS and JavaScript from public CDNs, so offline (or
in a locked-down CI artifact viewer) they show as unstyled text. The HTML page
written here has inline CSS only and no scripts: it reads the same anywhere,
lists every check with its status, observed value and offending rows, and
links to the Data Docs for those who have network access.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from .outcome import CheckResult, ValidationOutcome

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 2rem auto; max-width: 78rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.verdict { display: inline-block; padding: .15rem .6rem; border-radius: .3rem;
           color: #fff; font-weight: 600; }
.passed { background: #1a7f37; } .failed { background: #cf222e; } .skipped { background: #6e7781; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem;
         border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; }
tr.row-failed td { background: #ffebe9; }
tr.row-skipped td { color: #57606a; }
td.status span { font-size: .8rem; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
.summary td:first-child { font-weight: 600; width: 12rem; }
.muted { color: #57606a; }
"""


def _row(result: CheckResult) -> str:
    check = result.check
    rule = escape(check.rule)
    if check.detail:
        rule += f'<br><span class="muted">{escape(check.detail)}</span>'
    return (
        f'<tr class="row-{result.status}">'
        f'<td class="status"><span class="verdict {result.status}">{result.status}</span></td>'
        f"<td>{escape(check.column)}</td><td>{rule}</td>"
        f"<td>{escape(result.observed)}</td>"
        f"<td>{escape(', '.join(result.examples))}</td>"
        f"<td><code>{escape(check.expectation)}</code></td></tr>"
    )


def _docs_links(links: dict[str, str]) -> str:
    if not links:
        return '<span class="muted">not built</span>'
    anchors = ", ".join(
        f'<a href="{escape(href)}">{escape(name)}</a>' for name, href in links.items()
    )
    return (
        f"{anchors} "
        '<span class="muted">(the index needs network access for its scripts; the result '
        "pages read fine offline, unstyled)</span>"
    )


def render_html(outcome: ValidationOutcome, docs_links: dict[str, str]) -> str:
    """The offline report as one HTML document (inline CSS, no scripts, no network).

    Args:
        outcome: the validation verdict.
        docs_links: label -> relative link of GX Data Docs pages (empty: not built).
    """
    verdict = "passed" if outcome.success else "failed"
    order = {"failed": 0, "skipped": 1, "passed": 2}
    rows = "\n".join(_row(r) for r in sorted(outcome.results, key=lambda r: order[r.status]))
    facts = [
        ("file", escape(outcome.source)),
        ("rows, columns", f"{outcome.rows:,}, {outcome.columns}"),
        ("contract", escape(outcome.contract)),
        (
            "checks",
            f"{len(outcome.results)} run: {len(outcome.failures)} failed, "
            f"{len(outcome.skipped)} skipped",
        ),
        ("time", f"{outcome.seconds:.2f} s"),
        ("generated", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("GX Data Docs", _docs_links(docs_links)),
    ]
    summary = "\n".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in facts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Data validation {verdict}: {escape(outcome.source)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Data validation <span class="verdict {verdict}">{verdict}</span></h1>
<p class="muted">Every check of the data contract and the cross-column rules, failures first.
Offending rows are named by {escape(outcome.id_column or "row number")}.</p>
<table class="summary">
{summary}
</table>
<table>
<thead><tr><th>status</th><th>column</th><th>rule</th><th>observed</th>
<th>offending rows</th><th>expectation</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def write_json(outcome: ValidationOutcome, documents: dict[str, Any], path: Path) -> Path:
    """Write the verdict and GX's full result documents as one JSON file."""
    payload = {**outcome.to_dict(), "great_expectations": documents}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def write_html(outcome: ValidationOutcome, path: Path, docs: dict[str, Path]) -> Path:
    """Write the offline HTML report, linking Data Docs pages relative to it.

    Args:
        outcome: the validation verdict.
        path: the HTML file to write.
        docs: label -> Data Docs page (empty when none were built).
    """
    base = path.parent.resolve()
    links = {k: Path(os.path.relpath(v.resolve(), base)).as_posix() for k, v in docs.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(outcome, links), encoding="utf-8")
    return path
