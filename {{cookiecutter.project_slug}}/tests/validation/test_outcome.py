"""The failure table and result wording, from result dictionaries shaped like GX 1.x's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.validation.outcome import (
    CheckResult,
    ValidationOutcome,
    format_table,
    interpret,
)
from {{ cookiecutter.package_name }}.validation.plan import TABLE, Check

COLUMNS = Check(
    "table:columns",
    "file",
    "ExpectTableColumnsToMatchSet",
    {"column_set": ["a"]},
    TABLE,
    "columns exactly as in the contract",
)
TENURE_TYPE = Check(
    "tenure:type",
    "file",
    "ExpectColumnValuesToMatchRegex",
    {"column": "tenure"},
    "tenure",
    "is a whole number",
    ("tenure",),
)
RATE = Check(
    "Churn:positive_rate",
    "derived",
    "ExpectColumnMeanToBeBetween",
    {"column": "x"},
    "Churn",
    "share of 'Yes' between 0.1 and 0.5",
    ("Churn",),
)
RULE = Check(
    "rule:p",
    "derived",
    "ExpectColumnValuesToBeBetween",
    {"column": "d", "mostly": 0.99},
    "TotalCharges",
    "within 50% of tenure x MonthlyCharges",
    ("TotalCharges", "tenure"),
)


def _result(success: bool, **result: Any) -> dict[str, Any]:
    return {
        "success": success,
        "result": result,
        "exception_info": {"raised_exception": False, "exception_message": None},
    }


def _row_wise(values: list[Any], ids: list[str], column: str = "tenure") -> dict[str, Any]:
    return _result(
        False,
        element_count=7043,
        unexpected_count=len(values),
        unexpected_percent=100 * len(values) / 7043,
        partial_unexpected_list=values,
        partial_unexpected_index_list=[
            {column: v, "customerID": i} for v, i in zip(values, ids, strict=True)
        ],
        unexpected_index_column_names=["customerID"],
    )


def test_column_set_mismatch_names_missing_and_unexpected_columns() -> None:
    result = _result(
        False,
        observed_value=["Gender", "b"],
        details={"mismatched": {"missing": ["gender"], "unexpected": ["Gender"]}},
    )
    got = interpret(COLUMNS, result, set(), None)
    assert got.status == "failed"
    assert got.observed == "missing: gender; unexpected: Gender"


def test_many_missing_columns_are_counted_in_contract_order() -> None:
    expected = ["id", "b", "a", "d", "c", "f", "e"]
    check = Check("table:columns", "file", COLUMNS.expectation, {"column_set": expected}, TABLE, "")
    result = _result(False, details={"mismatched": {"missing": sorted(expected)}})
    got = interpret(check, result, set(), None)
    assert got.observed == "missing 7 of 7: id, b, a, d, c, …"


def test_row_wise_failure_quotes_values_and_ids() -> None:
    result = _row_wise(["ten", "x", "ten", "y"], ["1-A", "2-B", "3-C", "4-D"])
    got = interpret(TENURE_TYPE, result, set(), "customerID")
    assert got.observed == "4 of 7,043 rows (0.057%): 'ten', 'x', 'y'"
    assert got.examples == ("1-A: 'ten'", "2-B: 'x'", "3-C: 'ten'")
    assert got.unexpected_count == 4


def test_rows_without_an_id_column_are_numbered_from_one() -> None:
    result = _row_wise(["ten"], ["unused"])
    result["result"]["partial_unexpected_index_list"] = [41]
    assert interpret(TENURE_TYPE, result, set(), None).examples == ("row 42",)


def test_mostly_says_how_much_is_allowed() -> None:
    result = _row_wise([0.93], ["1-A"], column="d")
    got = interpret(RULE, result, set(), "customerID")
    assert got.observed == "1 of 7,043 rows (0.014%); at most 1% allowed: 0.93"
    assert got.examples == ("1-A: 0.93",)


def test_aggregate_shows_the_observed_value() -> None:
    got = interpret(RATE, _result(False, observed_value=0.0), set(), None)
    assert (got.status, got.observed) == ("failed", "0")
    assert interpret(RATE, _result(True, observed_value=0.26537), set(), None).observed == "0.2654"


def test_checks_on_missing_columns_are_skipped_not_failed() -> None:
    got = interpret(RULE, {}, {"tenure"}, None)
    assert (got.status, got.observed) == ("skipped", "not run: tenure missing")


def test_gx_exceptions_fail_the_check_with_their_message() -> None:
    result = {
        "success": False,
        "result": {},
        "exception_info": {
            "MetricConfigurationID(...)": {
                "raised_exception": True,
                "exception_message": 'Error: The column "d" in BatchData does not exist.',
            }
        },
    }
    got = interpret(RULE, result, set(), None)
    assert got.status == "failed"
    assert got.observed.startswith('could not run: Error: The column "d"')


@pytest.fixture
def outcome() -> ValidationOutcome:
    return ValidationOutcome(
        source="data/bad.csv",
        rows=7043,
        columns=22,
        results=(
            CheckResult(COLUMNS, "failed", "unexpected: notes"),
            CheckResult(
                TENURE_TYPE, "failed", "1 of 7,043 rows (0.014%): 'ten'", ("1-A: 'ten'",), 1
            ),
            CheckResult(RATE, "passed", "0.2654"),
            CheckResult(RULE, "skipped", "not run: tenure missing"),
        ),
        seconds=0.8,
        id_column="customerID",
        contract="telco v1 (abc)",
    )


def test_failure_table_lists_failures_with_column_rule_observed_and_rows(
    outcome: ValidationOutcome,
) -> None:
    table = outcome.failure_table()
    lines = table.splitlines()
    assert lines[0] == (
        "data validation failed: 2 of 4 checks failed; 1 skipped (missing columns) "
        "on data/bad.csv (7,043 rows, 22 columns)"
    )
    assert lines[1].split() == ["column", "rule", "observed", "offending", "rows", "(customerID)"]
    assert set(lines[2]) == {"-", " "}
    assert lines[3].split("  ")[0] == TABLE
    assert "columns exactly as in the contract" in lines[3]
    tenure = lines[4]
    assert tenure.startswith("tenure ")
    assert "is a whole number" in tenure
    assert "'ten'" in tenure
    assert tenure.endswith("1-A: 'ten'")
    assert len(lines) == 5  # passed and skipped checks are not listed
    assert outcome.success is False


def test_summary_line_and_json(outcome: ValidationOutcome) -> None:
    assert outcome.summary_line().startswith("data validation passed: 4 checks on data/bad.csv")
    data = json.loads(json.dumps(outcome.to_dict()))
    assert (data["checks"], data["failed"], data["skipped"]) == (4, 2, 1)
    assert data["results"][1]["examples"] == ["1-A: 'ten'"]


def test_long_cells_wrap_onto_a_few_lines() -> None:
    long = ("column", "rule " * 20, "observed", "x" * 300)
    table = format_table([("column", "rule", "observed", "rows"), long]).splitlines()
    assert len(table) == 2 + 4  # header, rule, then at most four lines per cell
    assert table[-1].endswith("…")
    assert all(len(line) < 160 for line in table)
    assert table[2].startswith("column  rule rule")


def test_column_names_never_wrap_and_rules_widen_before_they_wrap() -> None:
    """A long column name stays whole; a rule of up to 60 characters stays on one line."""
    name = "fractal dimension error of the worst cell"
    rule = "share of 'malignant tumour found' between 0.19 and 0.75"  # 55 characters
    table = format_table([("column", "rule", "observed", "rows"), (name, rule, "0", "")])
    lines = table.splitlines()
    assert len(lines) == 3
    assert lines[2].startswith(f"{name}  {rule}")
