"""Turn Great Expectations results into words: one line per check and the failure table.

GX results are nested dictionaries whose useful parts differ by expectation
(observed values, unexpected counts, offending index values, mismatched column
sets, exceptions). This module reads them once into `CheckResult`s, so the
CLI, the training step, the JSON file and the HTML report all say the same
thing. Pure functions of dictionaries: testable without GX.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..layout import CheckRecord, ValidationRecord
from .plan import Check

Status = Literal["passed", "failed", "skipped"]
MAX_EXAMPLES = 3
MAX_CELL_LINES = 4
MAX_COLUMN_NAMES = 5
# Widest cell before it wraps. A column name never wraps (it is what a reader looks up: "fractal
# dimension" over "error" reads as two columns); a rule grows to fit up to RULE_WIDTH_MAX (its
# labels and bounds come from the contract), and wraps beyond that, as long value lists do.
_WIDTHS = {"column": 22, "rule": 40, "observed": 48, "rows": 40}
RULE_WIDTH_MAX = 60


@dataclass(frozen=True)
class CheckResult:
    """What one check found.

    Attributes:
        check: the planned check.
        status: passed, failed, or skipped (a column it reads is missing from the file).
        observed: the observed value in words.
        examples: a few offending rows, by id when the file has an id column.
        unexpected_count: how many values broke the rule (row-wise checks only).
    """

    check: Check
    status: Status
    observed: str
    examples: tuple[str, ...] = ()
    unexpected_count: int | None = None

    def to_record(self) -> CheckRecord:
        """The form `reports/data_validation.json` stores (see layout.CheckRecord)."""
        return CheckRecord(
            key=self.check.key,
            column=self.check.column,
            rule=self.check.rule,
            status=self.status,
            observed=self.observed,
            unexpected_count=self.unexpected_count,
            examples=self.examples,
            expectation=self.check.expectation,
            stage=self.check.stage,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of `to_record`."""
        return self.to_record().model_dump(mode="json")


@dataclass(frozen=True)
class ValidationOutcome:
    """The verdict on one file: every check's result plus what was validated.

    Attributes:
        source: the file, as the user named it.
        rows: data rows read.
        columns: columns in the file.
        results: one result per planned check, in plan order.
        seconds: time spent reading and validating.
        setup_seconds: time spent loading GX and building the suites (first file only).
        id_column: the contract's id column when the file has it (names offending rows).
        contract: the contract's name, version and fingerprint.
        chunks: how many chunks the file was validated in (1: all at once).
        stopped_at: rows read when reading stopped at the contract's row maximum.
    """

    source: str
    rows: int
    columns: int
    results: tuple[CheckResult, ...]
    seconds: float
    id_column: str | None
    contract: str
    setup_seconds: float = 0.0
    chunks: int = 1
    stopped_at: int | None = None

    @property
    def success(self) -> bool:
        """True when no check failed (skipped checks only happen next to a failure)."""
        return not self.failures

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The failed checks, in plan order."""
        return tuple(r for r in self.results if r.status == "failed")

    @property
    def skipped(self) -> tuple[CheckResult, ...]:
        """Checks not run because a column they read is missing."""
        return tuple(r for r in self.results if r.status == "skipped")

    def summary_line(self) -> str:
        """One line for a passing file: how many checks, rows, how long."""
        setup = f" (+{self.setup_seconds:.1f} s loading GX)" if self.setup_seconds >= 0.05 else ""
        chunks = f" in {self.chunks} chunks" if self.chunks > 1 else ""
        return f"data validation passed: {self.scope()}{chunks} in {self.seconds:.1f} s{setup}"

    def scope(self) -> str:
        """What was validated: how many checks on which file, of how many rows and columns."""
        shape = f"{self.rows:,} rows, {self.columns} columns"
        return f"{len(self.results)} checks on {self.source} ({shape})"

    def failure_table(self) -> str:
        """The failed checks as a text table; the message of `DataValidationError`."""
        skipped = f"; {len(self.skipped)} skipped (missing columns)" if self.skipped else ""
        read = (
            f"stopped reading after {self.stopped_at:,} rows: more than the contract allows"
            if self.stopped_at is not None
            else f"{self.rows:,} rows"
        )
        head = (
            f"data validation failed: {len(self.failures)} of {len(self.results)} checks "
            f"failed{skipped} on {self.source} ({read}, {self.columns} columns)"
        )
        who = f"offending rows ({self.id_column})" if self.id_column else "offending rows"
        rows = [("column", "rule", "observed", who)]
        rows += [
            (r.check.column, r.check.rule, r.observed, ", ".join(r.examples)) for r in self.failures
        ]
        return head + "\n" + format_table(rows)

    def to_record(self) -> ValidationRecord:
        """The form `reports/data_validation.json` stores (see layout.ValidationRecord)."""
        return ValidationRecord(
            source=self.source,
            success=self.success,
            rows=self.rows,
            columns=self.columns,
            seconds=round(self.seconds, 3),
            setup_seconds=round(self.setup_seconds, 3),
            contract=self.contract,
            checks=len(self.results),
            failed=len(self.failures),
            skipped=len(self.skipped),
            results=tuple(r.to_record() for r in self.results),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of `to_record`."""
        return self.to_record().model_dump(mode="json")


def _cell(text: str, width: int) -> list[str]:
    lines = textwrap.wrap(text, width, break_on_hyphens=False) or [""]
    if len(lines) > MAX_CELL_LINES:
        lines = [*lines[: MAX_CELL_LINES - 1], lines[MAX_CELL_LINES - 1][: width - 1] + "…"]
    return lines


def format_table(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """Align rows into columns; long cells wrap onto a few lines instead of widening the table.

    The first cell of a row (a column name) never wraps; see _WIDTHS.
    """
    widths = list(_WIDTHS.values())
    widths[0] = max([widths[0], *(len(row[0]) for row in rows)])
    widths[1] = min(RULE_WIDTH_MAX, max([widths[1], *(len(row[1]) for row in rows)]))
    cells = [[_cell(v, w) for v, w in zip(row, widths, strict=True)] for row in rows]
    sizes = [max(len(line) for row in cells for line in row[i]) for i in range(len(widths))]
    lines = []
    for row in cells:
        for parts in itertools.zip_longest(*row, fillvalue=""):
            lines.append("  ".join(p.ljust(s) for p, s in zip(parts, sizes, strict=True)).rstrip())
    lines.insert(1, "  ".join("-" * s for s in sizes))
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return repr(value)


def _percent(share: float) -> str:
    return f"{share:.0f}%" if share >= 1 else f"{share:.2g}%"


def _exception(result: Mapping[str, Any]) -> str | None:
    info = result.get("exception_info") or {}
    candidates = [info, *(v for v in info.values() if isinstance(v, Mapping))]
    for entry in candidates:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "unknown error")
    return None


def _names(label: str, names: list[str], of: int | None = None) -> str:
    shown = ", ".join(names[:MAX_COLUMN_NAMES]) + (", …" if len(names) > MAX_COLUMN_NAMES else "")
    if len(names) <= MAX_COLUMN_NAMES:
        return f"{label}: {shown}"
    return f"{label} {len(names)}{f' of {of}' if of else ''}: {shown}"


def _column_set(check: Check, result: Mapping[str, Any]) -> str:
    mismatch = (result.get("details") or {}).get("mismatched") or {}
    expected = [str(c) for c in check.kwargs.get("column_set", [])]
    missing = {str(c) for c in mismatch.get("missing") or []}
    parts = []
    if missing:  # in contract order, which is how people know their columns
        ordered = [c for c in expected if c in missing] + sorted(missing - set(expected))
        parts.append(_names("missing", ordered, len(expected)))
    if mismatch.get("unexpected"):
        parts.append(_names("unexpected", [str(c) for c in mismatch["unexpected"]]))
    return "; ".join(parts) or f"{len(result.get('observed_value') or [])} columns as expected"


def _distinct_values(result: Mapping[str, Any]) -> list[Any]:
    counts = result.get("partial_unexpected_counts")
    values = [c["value"] for c in counts] if counts else result.get("partial_unexpected_list", [])
    distinct: list[Any] = []
    for value in values:
        if value is not None and value not in distinct:
            distinct.append(value)
    return distinct[:MAX_EXAMPLES]


def _row_wise(check: Check, result: Mapping[str, Any]) -> str:
    count, total = int(result["unexpected_count"]), int(result.get("element_count") or 0)
    if not count:
        return f"0 of {total:,} rows"
    words = f"{count:,} of {total:,} rows ({_percent(100 * count / max(total, 1))})"
    mostly = check.kwargs.get("mostly", 1.0)
    if mostly < 1:
        words += f"; at most {_percent(100 * (1 - mostly))} allowed"
    values = _distinct_values(result)
    return words + (": " + ", ".join(_value(v) for v in values) if values else "")


def _examples(check: Check, result: Mapping[str, Any], id_column: str | None) -> tuple[str, ...]:
    found = []
    column = check.kwargs.get("column")
    for entry in result.get("partial_unexpected_index_list") or []:
        if isinstance(entry, Mapping) and id_column in entry:
            row_id, value = entry[id_column], entry.get(column)
            shown = str(row_id)
            if value is not None and value != row_id:
                shown += f": {_value(value)}"
            found.append(shown)
        elif isinstance(entry, int):
            found.append(f"row {entry + 1}")
        if len(found) == MAX_EXAMPLES:
            break
    return tuple(found)


def interpret(
    check: Check, result: Mapping[str, Any], missing: set[str], id_column: str | None
) -> CheckResult:
    """Read one GX expectation result (its JSON dict) into a `CheckResult`.

    Args:
        check: the check the result belongs to.
        result: the expectation's validation result, as `to_json_dict()` gives it.
        missing: contract columns absent from the file.
        id_column: the id column, when the file has it.
    """
    absent = [c for c in check.reads if c in missing]
    if absent:
        return CheckResult(check, "skipped", f"not run: {', '.join(absent)} missing")
    error = _exception(result)
    if error is not None:
        return CheckResult(check, "failed", f"could not run: {error}")
    status: Status = "passed" if result.get("success") else "failed"
    details: Mapping[str, Any] = result.get("result") or {}
    if check.expectation == "ExpectTableColumnsToMatchSet":
        return CheckResult(check, status, _column_set(check, details))
    if "unexpected_count" in details:
        return CheckResult(
            check,
            status,
            _row_wise(check, details),
            _examples(check, details, id_column),
            int(details["unexpected_count"]),
        )
    return CheckResult(check, status, _value(details.get("observed_value")))
