from __future__ import annotations

import json
import re
from pathlib import Path

from {{ cookiecutter.package_name }}.validation.outcome import (
    CheckResult,
    Status,
    ValidationOutcome,
)
from {{ cookiecutter.package_name }}.validation.plan import Check
from {{ cookiecutter.package_name }}.validation.report import (
    render_html,
    write_html,
    write_json,
)

CHECK = Check(
    "gender:allowed",
    "file",
    "ExpectColumnValuesToBeInSet",
    {"column": "gender"},
    "gender",
    "one of: Female, Male",
    ("gender",),
    "a <b>bold</b> description",
)


def _outcome(status: Status = "failed") -> ValidationOutcome:
    other = Check("x:not_null", "file", "ExpectColumnValuesToNotBeNull", {}, "x", "no blanks")
    return ValidationOutcome(
        source="data/<odd>.csv",
        rows=10,
        columns=2,
        results=(
            CheckResult(other, "passed", "0 of 10 rows"),
            CheckResult(CHECK, status, "1 of 10 rows (10%): '<X>'", ("1-A: '<X>'",), 1),
        ),
        seconds=0.1,
        id_column="customerID",
        contract="c v1 (f)",
    )


def test_report_needs_no_network_and_no_scripts() -> None:
    page = render_html(_outcome(), {"index": "data_docs/index.html"})
    assert "<script" not in page
    assert "<link" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<style>" in page


def test_report_lists_every_check_failures_first_and_escapes_text() -> None:
    page = render_html(_outcome(), {})
    body = page[page.index("<tbody>") :]
    assert body.index(">gender</td>") < body.index(">x</td>")
    assert "&lt;X&gt;" in page
    assert "<X>" not in page
    assert "&lt;b&gt;bold" in page
    assert "not built" in page
    assert 'class="verdict failed"' in page


def test_reports_are_written_with_relative_links(tmp_path: Path) -> None:
    docs = tmp_path / "data_docs" / "index.html"
    html = write_html(_outcome("passed"), tmp_path / "data_validation.html", {"index": docs})
    assert 'href="data_docs/index.html"' in html.read_text()
    path = write_json(_outcome(), {"file": {"success": False}}, tmp_path / "r.json")
    data = json.loads(path.read_text())
    assert data["great_expectations"] == {"file": {"success": False}}
    assert data["success"] is False
