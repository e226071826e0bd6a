"""The corruption matrix: each kind of bad data is caught, and the message names column and rule.

Each case corrupts a copy of the shipped sample the way real files go wrong and
lists exactly which checks must fail, so a check that stops firing, or one that
fires on the wrong thing, breaks a test. The file-level cases go through the
CLI: a bad file must give one clear line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.errors import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.validation.outcome import (
    ValidationOutcome,
)
from {{ cookiecutter.package_name }}.validation.service import (
    DataValidator,
    validate_file,
)

ROWS = [10, 20, 30]  # rows the cell-level corruptions touch


Corruption = Callable[[pd.DataFrame], pd.DataFrame]


def _set(column: str, value: str) -> Corruption:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[ROWS, column] = value
        return frame

    return corrupt


def _drop(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["tenure"])


def _rename(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"gender": "Gender"})


def _extra(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(notes="x")


def _duplicate_ids(frame: pd.DataFrame) -> pd.DataFrame:
    return _set("customerID", frame.loc[0, "customerID"])(frame)


def _all_negative(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(Churn="No")


def _few_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.head(500)


def _total_times_ten(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    total = pd.to_numeric(frame.loc[ROWS, "TotalCharges"])
    frame.loc[ROWS, "TotalCharges"] = (total * 10).round(2).astype(str)
    return frame


def _swap_charges(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(MonthlyCharges=frame["TotalCharges"], TotalCharges=frame["MonthlyCharges"])


@dataclass(frozen=True)
class Case:
    name: str
    corrupt: Corruption
    failed: set[str]
    says: tuple[str, ...]  # words the failure table must contain besides column and rule


CASES = [
    Case("missing column", _drop, {"table:columns"}, ("missing: tenure",)),
    Case("renamed column", _rename, {"table:columns"}, ("missing: gender; unexpected: Gender",)),
    Case("extra column", _extra, {"table:columns"}, ("unexpected: notes",)),
    Case("wrong type", _set("MonthlyCharges", "12,50"), {"MonthlyCharges:type"}, ("'12,50'",)),
    Case(
        "decimal in an int column",
        _set("tenure", "12.5"),
        {"tenure:type", "rule:total_charges_match_tenure_times_monthly"},
        ("'12.5'",),
    ),
    Case("nulls in a required column", _set("Contract", ""), {"Contract:not_null"}, ("3 of",)),
    Case(  # a tenure of 999 months also makes TotalCharges implausible
        "out-of-range number",
        _set("tenure", "999"),
        {"tenure:range", "rule:total_charges_match_tenure_times_monthly"},
        ("999",),
    ),
    Case(
        "negative charge",
        _set("MonthlyCharges", "-5"),
        {"MonthlyCharges:range", "rule:total_charges_match_tenure_times_monthly"},
        ("-5",),
    ),
    Case(
        "unseen category",
        _set("PaymentMethod", "Crypto"),
        {"PaymentMethod:allowed"},
        ("'Crypto'",),
    ),
    Case("duplicate ids", _duplicate_ids, {"customerID:unique"}, ("4 of 7,043 rows",)),
    Case("unknown target label", _set("Churn", "Maybe"), {"Churn:labels"}, ("'Maybe'",)),
    Case("class balance collapse", _all_negative, {"Churn:positive_rate"}, ("observed",)),
    Case("too few rows", _few_rows, {"table:rows"}, ("500",)),
    Case(
        "total inconsistent with tenure x monthly",
        _total_times_ten,
        {"rule:total_charges_match_tenure_times_monthly"},
        ("3 of 7,043 rows",),
    ),
    Case(
        "blank total for a long-standing customer",
        _set("TotalCharges", " "),
        {"rule:total_charges_blank_only_for_new_customers"},
        ("3 of 7,043 rows",),
    ),
    Case(
        "monthly and total columns swapped",
        _swap_charges,  # the 11 blank totals land in MonthlyCharges, which may not be blank
        {
            "MonthlyCharges:type",
            "MonthlyCharges:range",
            "rule:total_charges_match_tenure_times_monthly",
        },
        ("' '",),
    ),
]


def failed_keys(outcome: ValidationOutcome) -> set[str]:
    return {r.check.key for r in outcome.failures}


def _validate(validator: DataValidator, frame: pd.DataFrame) -> ValidationOutcome:
    return validator.validate_frame(frame, source="corrupted.csv").outcome


def _assert_named(outcome: ValidationOutcome, says: tuple[str, ...]) -> None:
    """Every failed check has a line naming its column and rule; the extra words appear."""
    table = outcome.failure_table()
    lines = table.splitlines()
    for result in outcome.failures:
        assert any(
            line.startswith(result.check.column + " ") and result.check.rule in line
            for line in lines
        ), f"no line names {result.check.column!r} and {result.check.rule!r}:\n{table}"
    for words in says:
        assert words in table, f"{words!r} not in:\n{table}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corruption_is_caught_and_named(
    validator: DataValidator, sample: pd.DataFrame, case: Case
) -> None:
    outcome = _validate(validator, case.corrupt(sample))
    assert failed_keys(outcome) == case.failed, outcome.failure_table()
    _assert_named(outcome, case.says)


def test_offending_rows_are_named_by_id(validator: DataValidator, sample: pd.DataFrame) -> None:
    frame = _set("PaymentMethod", "Crypto")(sample)
    (failure,) = _validate(validator, frame).failures
    ids = sample.loc[ROWS, "customerID"].tolist()
    assert failure.examples == tuple(f"{i}: 'Crypto'" for i in ids)


def test_checks_of_a_missing_column_are_skipped(
    validator: DataValidator, sample: pd.DataFrame
) -> None:
    frame = sample.drop(columns=["tenure"])
    outcome = _validate(validator, frame)
    skipped = {r.check.key for r in outcome.skipped}
    assert {"tenure:not_null", "tenure:type", "tenure:range"} <= skipped
    assert "rule:total_charges_match_tenure_times_monthly" in skipped
    assert "1 skipped" not in outcome.failure_table()


def test_truncated_line_is_caught(
    validator: DataValidator, sample_path: Path, tmp_path: Path
) -> None:
    lines = sample_path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = ",".join(lines[5].split(",")[:6]) + "\n"
    path = tmp_path / "truncated.csv"
    path.write_text("".join(lines), encoding="utf-8")
    outcome = validator.validate_path(path).outcome
    assert "lines:complete" in failed_keys(outcome)
    assert "Churn:not_null" in failed_keys(outcome)
    row_id = lines[5].split(",")[0]
    _assert_named(outcome, (f"{row_id}: 15",))


def test_refusal_message_is_the_failure_table(
    validator: DataValidator, sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = _set("Churn", "Maybe")(sample)
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as caught:
        validate_file(path, validator.contract, validator.rules, validator=validator)
    expected = validator.validate_path(path).outcome.failure_table()
    assert str(caught.value) == expected


def test_not_a_csv_fails_validation_with_the_missing_columns(
    validator: DataValidator, tmp_path: Path
) -> None:
    path = tmp_path / "data.csv"
    path.write_text('{"customers": [1, 2, 3]}\n{"customers": [4]}\n', encoding="utf-8")
    outcome = validator.validate_path(path).outcome
    assert "table:columns" in failed_keys(outcome)
    assert "missing 21 of 21: customerID, tenure," in outcome.failure_table()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"customerID,gender,Churn\n", "has a header but no rows"),
        (b"\x00\x01\x02\x03binary", "looks binary"),
        (b"customerID;gender;Churn\n1;Male;No\n", "';' as delimiter"),
        ("customerID,gender\n1,Mäle\n".encode("latin-1"), "not UTF-8"),
    ],
    ids=["empty", "header only", "binary", "wrong delimiter", "latin-1"],
)
def test_unreadable_files_get_one_clear_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    monkeypatch.setenv("MLOPS_REPORTS_DIR", str(tmp_path / "reports"))
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_validate_command_prints_the_table_and_writes_reports(
    sample: pd.DataFrame,
    settings_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = _set("gender", "X")(sample)
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    monkeypatch.setenv("MLOPS_REPORTS_DIR", str(tmp_path / "reports"))
    assert main(["--project-dir", str(settings_dir), "validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "validate: error: data validation failed: 1 of" in err
    assert "gender" in err
    assert "one of: Female, Male" in err
    assert "full report:" in err
    assert "Traceback" not in err
    assert (tmp_path / "reports" / "data_validation.html").is_file()
