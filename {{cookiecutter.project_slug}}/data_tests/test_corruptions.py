"""The corruption matrix: each kind of bad data is caught, and the message names column and rule.

Each case corrupts a copy of the configured data the way real files go wrong
and lists which checks must fail, so a check that stops firing, or one that
fires on the wrong thing, breaks a test. The columns come from the data
contract by role (a numeric, a categorical, the target, the id if any) and the
rule cases from config/data_rules.yaml, so the matrix proves the same on any
data the project is adapted to. A corruption may also fail the cross-column
rules that read the corrupted column, nothing else. The file-level cases go
through the CLI: a bad file must give one clear line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.contract.datasets import read_raw
from {{ cookiecutter.package_name }}.contract.model import (
    load_contract,
    training_data_path,
)
from {{ cookiecutter.package_name }}.errors import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation.outcome import (
    ValidationOutcome,
)
from {{ cookiecutter.package_name }}.validation.rules import (
    ApproxProduct,
    BlankOnlyWhen,
    load_rules,
)
from {{ cookiecutter.package_name }}.validation.service import (
    DataValidator,
    validate_file,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]
ROWS = [10, 20, 30]  # rows the cell-level corruptions touch
SETTINGS = Settings(project_dir=PROJECT_DIR)
CONTRACT = load_contract(SETTINGS.contract_path)
RULES = load_rules(SETTINGS.data_rules_path, CONTRACT)


def _pick_numeric(*, integer: bool = False) -> str | None:
    """A bounded numeric column (non-nullable first); with `integer`, one of dtype int."""
    found = [
        name
        for name, spec in CONTRACT.numeric.items()
        if spec.max is not None and (spec.dtype == "int" or not integer)
    ]
    return min(found, key=lambda name: CONTRACT.numeric[name].nullable, default=None)


def _pick_categorical() -> str | None:
    """A categorical column (non-nullable, text first): the one that gets bad categories.

    None when the contract has none (all-numeric data): the cases of categories then
    do not apply, and the others corrupt a numeric column instead.
    """
    found = [name for name, spec in CONTRACT.categorical.items() if len(spec.values) > 1]
    spec = CONTRACT.categorical
    order = {name: (spec[name].nullable, spec[name].dtype != "str") for name in found}
    return min(found, key=order.__getitem__, default=None)


def _pick_required() -> str | None:
    """A feature that may not be blank (categorical first, as the sample's cases were)."""
    features = [*CONTRACT.categorical.items(), *CONTRACT.numeric.items()]
    return next((name for name, spec in features if not spec.nullable), None)


NUMBER = _pick_numeric()
assert NUMBER, "the data tests need a numeric column with a max in the contract"
INTEGER = _pick_numeric(integer=True)
CATEGORY = _pick_categorical()
REQUIRED = _pick_required()
TARGET = CONTRACT.target
ID = CONTRACT.id_column


def _text(value: float, column: str) -> str:
    """A number as the file would hold it in `column` (whole numbers for dtype int)."""
    return str(int(value)) if CONTRACT.numeric[column].dtype == "int" else f"{value:g}"


def _shown(text: str) -> str:
    """How the failure table shows a number it parsed (as the observed value)."""
    value = float(text)
    return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"


def rules_reading(column: str) -> set[str]:
    """Keys of the cross-column rules that read `column`: a corruption of it may fail them."""
    return {f"rule:{rule.name}" for rule in RULES.rules if column in rule.reads}


Corruption = Callable[[pd.DataFrame], pd.DataFrame]


def _set(column: str, value: str) -> Corruption:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[ROWS, column] = value
        return frame

    return corrupt


def _rename(column: str) -> str:
    return column.upper() if column.upper() != column else f"{column}_renamed"


def _duplicate_ids(frame: pd.DataFrame) -> pd.DataFrame:
    assert ID is not None
    return _set(ID, frame.loc[0, ID])(frame)


def _all_negative(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(**{TARGET.column: TARGET.negative})


def _fewer_rows(count: int) -> Corruption:
    """`count` rows spread over the file, so the class balance stays as it was."""

    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[np.linspace(0, len(frame) - 1, count).astype(int)]

    return corrupt


def _rows_where(frame: pd.DataFrame, keep: pd.Series) -> list[int]:
    chosen = list(frame.index[keep.to_numpy()][:3])
    assert len(chosen) == 3, "the data has too few rows a rule case can corrupt"
    return chosen


def _break_product(rule: ApproxProduct) -> Corruption:
    """The rule's column ten times what its factors say, on three rows where all are numbers."""

    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        numbers = frame[list(rule.reads)].apply(pd.to_numeric, errors="coerce")
        rows = _rows_where(frame, (numbers > 0).all(axis=1))
        frame.loc[rows, rule.column] = (numbers.loc[rows, rule.column] * 10).round(2).astype(str)
        return frame

    return corrupt


def _blank_outside(rule: BlankOnlyWhen) -> Corruption:
    """The rule's column blank on three rows where `when_column` does not allow it."""
    spec = CONTRACT.numeric.get(rule.column)
    blank = spec.missing_values[0] if spec and spec.missing_values else ""

    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        allowed = {str(v) for v in rule.when_values}
        values = frame[rule.when_column].astype(str)
        numbers = pd.to_numeric(values, errors="coerce")
        allows = values.isin(allowed) | numbers.isin(
            [float(v) for v in rule.when_values if _num(v)]
        )
        frame.loc[_rows_where(frame, ~allows), rule.column] = blank
        return frame

    return corrupt


def _num(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Case:
    name: str
    corrupt: Corruption
    failed: set[str]
    says: tuple[str, ...]  # words the failure table must contain besides column and rule
    may_also_fail: frozenset[str] = frozenset()  # e.g. rules reading the corrupted column


def _cases(rows: int) -> list[Case]:
    """Every kind of bad data, on columns the contract names by role."""
    spec = CONTRACT.numeric[NUMBER]
    assert spec.max is not None
    too_big = _text(spec.max * 10 + 1, NUMBER)
    extra = "notes" if "notes" not in CONTRACT.columns else "notes_extra"
    renamed_column = CATEGORY or NUMBER
    renamed = _rename(renamed_column)
    near = frozenset(rules_reading(NUMBER))
    cases = [
        Case(
            "missing column",
            lambda f: f.drop(columns=[NUMBER]),
            {"table:columns"},
            (f"missing: {NUMBER}",),
        ),
        Case(
            "renamed column",
            lambda f: f.rename(columns={renamed_column: renamed}),
            {"table:columns"},
            (f"missing: {renamed_column}; unexpected: {renamed}",),
        ),
        Case(
            "extra column",
            lambda f: f.assign(**{extra: "x"}),
            {"table:columns"},
            (f"unexpected: {extra}",),
        ),
        Case("wrong type", _set(NUMBER, "12,50"), {f"{NUMBER}:type"}, ("'12,50'",), near),
        Case(
            "out-of-range number",
            _set(NUMBER, too_big),
            {f"{NUMBER}:range"},
            (_shown(too_big),),
            near,
        ),
        Case(
            "unknown target label",
            _set(TARGET.column, "Maybe"),
            {f"{TARGET.column}:labels"},
            ("'Maybe'",),
        ),
    ]
    if REQUIRED is not None:
        cases.append(
            Case(
                "nulls in a required column",
                _set(REQUIRED, ""),
                {f"{REQUIRED}:not_null"},
                ("3 of",),
                frozenset(rules_reading(REQUIRED)),
            )
        )
    if CATEGORY is not None:
        unseen = _set(CATEGORY, "Crypto")
        cases.append(Case("unseen category", unseen, {f"{CATEGORY}:allowed"}, ("'Crypto'",)))
    if spec.min is not None:
        too_small = _text(spec.min - 5, NUMBER)
        cases.append(
            Case(
                "number below the range",
                _set(NUMBER, too_small),
                {f"{NUMBER}:range"},
                (too_small,),
                near,
            )
        )
    if INTEGER is not None:
        cases.append(
            Case(
                "decimal in an int column",
                _set(INTEGER, "12.5"),
                {f"{INTEGER}:type"},
                ("'12.5'",),
                frozenset(rules_reading(INTEGER)),
            )
        )
    if ID is not None:
        cases.append(
            Case("duplicate ids", _duplicate_ids, {f"{ID}:unique"}, (f"4 of {rows:,} rows",))
        )
    if (TARGET.positive_rate.min or 0) > 0:
        cases.append(
            Case(
                "class balance collapse",
                _all_negative,
                {f"{TARGET.column}:positive_rate"},
                (),  # no positive left: its line names the share's bounds (the rule), observed 0
            )
        )
    if (CONTRACT.rows.min or 0) > 1:
        fewer = int(CONTRACT.rows.min or 0) - 1
        cases.append(Case("too few rows", _fewer_rows(fewer), {"table:rows"}, (f"{fewer:,}",)))
    for rule in RULES.rules:
        key = f"rule:{rule.name}"
        if isinstance(rule, ApproxProduct):
            cases.append(
                Case(
                    f"{rule.name} broken",
                    _break_product(rule),
                    {key},
                    (f"3 of {rows:,} rows",),
                    frozenset({f"{rule.column}:range"}),
                )
            )
        elif isinstance(rule, BlankOnlyWhen):
            cases.append(
                Case(
                    f"{rule.name} broken",
                    _blank_outside(rule),
                    {key},
                    (f"3 of {rows:,} rows",),
                    frozenset({f"{rule.column}:not_null"}),
                )
            )
    return cases


CASES = _cases(len(read_raw(training_data_path(SETTINGS, CONTRACT))))


def failed_keys(outcome: ValidationOutcome) -> set[str]:
    return {r.check.key for r in outcome.failures}


def _validate(validator: DataValidator, frame: pd.DataFrame) -> ValidationOutcome:
    return validator.validate_frame(frame, source="corrupted.csv").outcome


def _assert_named(outcome: ValidationOutcome, says: tuple[str, ...]) -> None:
    """Every failed check has a line naming its column and rule; the extra words appear.

    The words are looked for in each failure's cells as the table fills them: a long
    cell wraps in the table (a column name in it may hold spaces), its text does not.
    """
    table = outcome.failure_table()
    lines = table.splitlines()
    for result in outcome.failures:
        assert any(
            line.startswith(result.check.column + " ") and result.check.rule in line
            for line in lines
        ), f"no line names {result.check.column!r} and {result.check.rule!r}:\n{table}"
    cells = [cell for r in outcome.failures for cell in (r.observed, ", ".join(r.examples))]
    for words in says:
        assert any(words in cell for cell in cells), f"{words!r} not in:\n{table}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corruption_is_caught_and_named(
    validator: DataValidator, sample: pd.DataFrame, case: Case
) -> None:
    outcome = _validate(validator, case.corrupt(sample))
    failed = failed_keys(outcome)
    assert case.failed <= failed <= case.failed | case.may_also_fail, outcome.failure_table()
    _assert_named(outcome, case.says)


def test_offending_rows_are_named_by_id(validator: DataValidator, sample: pd.DataFrame) -> None:
    """An unlisted category (all-numeric data: text in a numeric column) names its rows."""
    column, key = (CATEGORY, "allowed") if CATEGORY else (NUMBER, "type")
    frame = _set(column, "Crypto")(sample)
    failures = _validate(validator, frame).failures
    assert {f.check.key for f in failures} <= {f"{column}:{key}"} | rules_reading(column)
    (failure,) = [f for f in failures if f.check.key == f"{column}:{key}"]
    if ID is None:  # without an id column, rows are named by their number in the file
        assert failure.examples == tuple(f"row {i + 1}" for i in ROWS)
    else:
        ids = sample.loc[ROWS, ID].tolist()
        assert failure.examples == tuple(f"{i}: 'Crypto'" for i in ids)


def test_checks_of_a_missing_column_are_skipped(
    validator: DataValidator, sample: pd.DataFrame
) -> None:
    frame = sample.drop(columns=[NUMBER])
    outcome = _validate(validator, frame)
    skipped = {r.check.key for r in outcome.skipped}
    reading = {c.key for c in validator.plan if NUMBER in c.reads and not c.key.startswith("table")}
    assert {f"{NUMBER}:type", f"{NUMBER}:range"} | rules_reading(NUMBER) <= reading == skipped
    assert "1 skipped" not in outcome.failure_table()


def test_truncated_line_is_caught(
    validator: DataValidator, sample_csv: Path, tmp_path: Path
) -> None:
    lines = sample_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[5].rstrip("\r\n").split(",")
    lines[5] = ",".join(fields[: len(fields) // 2]) + "\n"  # half its fields, however many
    path = tmp_path / "truncated.csv"
    path.write_text("".join(lines), encoding="utf-8")
    outcome = validator.validate_path(path).outcome
    assert "lines:complete" in failed_keys(outcome)
    (complete,) = [r for r in outcome.failures if r.check.key == "lines:complete"]
    assert len(complete.examples) == 1
    _assert_named(outcome, ())


def test_refusal_message_is_the_failure_table(
    validator: DataValidator, sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = _set(TARGET.column, "Maybe")(sample)
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
    columns = CONTRACT.columns
    assert f"missing {len(columns)} of {len(columns)}: {columns[0]}" in outcome.failure_table()


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
    column = CATEGORY or NUMBER  # all-numeric data: text in a numeric column
    frame = _set(column, "Not a listed value")(sample)
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    monkeypatch.setenv("MLOPS_REPORTS_DIR", str(tmp_path / "reports"))
    assert main(["--project-dir", str(settings_dir), "validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "validate: error: data validation failed: " in err
    if CATEGORY:  # text in a numeric column may break the rules that read it too
        assert "validate: error: data validation failed: 1 of" in err
    assert column in err
    assert "'Not a listed value'" in err
    assert "full report:" in err
    assert "Traceback" not in err
    assert (tmp_path / "reports" / "data_validation.html").is_file()
