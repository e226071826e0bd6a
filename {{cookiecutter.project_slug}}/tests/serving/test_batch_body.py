"""The batch validator's column-wise path agrees with the request validator, row for row.

Every body is validated both ways: the column-wise validator (`BatchValidator`)
and the request validator it stands in for (`build_validators(...).batch`). They
must accept the same bodies with equal rows, and refuse the same bodies with the
same errors; and the fast path must take every valid body of the usual kind (or
the endpoint would silently lose its speed).
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.contract.model import NumericColumn
from {{ cookiecutter.package_name }}.serving.batch_body import BatchValidator
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows
from {{ cookiecutter.package_name }}.serving.schema import ID_MAX_LENGTH, build_validators

from ..conftest import SAMPLE, contract

CONTRACT = contract()
MAX_ROWS = 20
VALIDATORS = build_validators(CONTRACT, MAX_ROWS)
BATCH = BatchValidator(CONTRACT, MAX_ROWS, VALIDATORS.batch)
FEATURES = CONTRACT.feature_columns
ID = CONTRACT.id_column
_DROP = object()  # a change that removes the field


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return sample_rows(SAMPLE, CONTRACT, 200, seed=5)


def _outcome(validate: Any, body: bytes) -> Any:
    """("ok", rows, columns, ids) or ("error", errors), comparable across both validators."""
    try:
        batch = validate(body)
    except ValidationError as err:
        return ("error", repr(err.errors(include_url=False)))  # repr: NaN inputs compare equal
    if isinstance(batch, dict):  # the request validator: rows only
        rows = batch["rows"]
        columns = {name: [row.get(name) for row in rows] for name in FEATURES}
        ids = [row.get(ID) for row in rows] if ID else [None] * len(rows)
        return ("ok", rows, columns, ids)
    return ("ok", batch.rows, batch.columns, batch.ids)


def _both(body: bytes) -> Any:
    expected = _outcome(VALIDATORS.batch.validate_json, body)
    assert _outcome(BATCH.validate_json, body) == expected, body[:300]
    return expected


def _typed(outcome: Any) -> Any:
    """The outcome with each value's type beside it (1 == 1.0 == True for ==, not here)."""
    if outcome[0] != "ok":
        return outcome
    _, rows, columns, ids = outcome
    typed_rows = [{k: (type(v), v) for k, v in row.items()} for row in rows]
    typed_columns = {k: [(type(v), v) for v in c] for k, c in columns.items()}
    return typed_rows, typed_columns, ids


def _body(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps({"rows": rows}).encode()


def test_valid_batches_take_the_fast_path_with_the_validators_rows(
    rows: list[dict[str, Any]],
) -> None:
    for size in (1, 2, 7, MAX_ROWS):
        for start in range(0, len(rows) - size, 37):
            body = _body(rows[start : start + size])
            assert BATCH.fast(body) is not None, body[:300]
            expected = _outcome(VALIDATORS.batch.validate_json, body)
            assert expected[0] == "ok"
            assert _typed(_outcome(BATCH.validate_json, body)) == _typed(expected)


def _whole_number_within(spec: NumericColumn) -> int | None:
    """A whole number the column's bounds accept (a user's bounds may exclude 1, or all)."""
    if spec.min is not None:
        whole = math.ceil(spec.min)
    else:
        whole = 0 if spec.max is None else min(0, math.floor(spec.max))
    return whole if spec.max is None or whole <= spec.max else None


def test_whole_numbers_in_float_columns_become_floats(rows: list[dict[str, Any]]) -> None:
    wholes = {
        name: whole
        for name, spec in CONTRACT.numeric.items()
        if spec.dtype != "int" and (whole := _whole_number_within(spec)) is not None
    }
    if not wholes:
        pytest.skip("the contract has no float column whose bounds hold a whole number")
    floats = list(wholes)
    changed = [dict(row, **wholes) for row in rows[:3]]
    body = _body(changed)
    batch = BATCH.fast(body)
    assert batch is not None
    assert all(type(batch.columns[name][0]) is float for name in floats)
    assert _typed(_outcome(BATCH.validate_json, body)) == _typed(_both(body))


def test_ids_absent_null_or_present_agree(rows: list[dict[str, Any]]) -> None:
    if ID is None:
        pytest.skip("the contract has no id column")
    mixed = [dict(rows[0]), dict(rows[1], **{ID: None}), {k: v for k, v in rows[2].items()}]
    del mixed[2][ID]
    assert BATCH.fast(_body(mixed)) is not None
    assert _both(_body(mixed))[3] == [rows[0][ID], None, None]


def _bad_values(name: str) -> list[Any]:
    """Values a column must refuse (or that only the request validator may take)."""
    values: list[Any] = ["1", True, False, [], {}, [1], 1.5, "", "Not a listed value"]
    if name in CONTRACT.numeric:
        spec = CONTRACT.numeric[name]
        values += [10**30, -(10**30), 1e300, -1e300, 12.0]
        if spec.min is not None:
            values += [spec.min - 1, spec.min - 0.5]
        if spec.max is not None:
            values += [spec.max + 1, spec.max + 0.5]
        if not spec.nullable:
            values.append(None)
    else:
        spec_values = CONTRACT.categorical[name].values
        values += [1, 0, 1.0, 0.0, str(spec_values[0]) + " ", str(spec_values[0]).upper()]
        if not CONTRACT.categorical[name].nullable:
            values.append(None)
    return values


def _mutations() -> list[tuple[str, Any]]:
    found = [(name, value) for name in FEATURES for value in _bad_values(name)]
    found += [(name, _DROP) for name in FEATURES]
    found += [("shoe_size", 42), ("", 1)]
    if ID:
        found += [(ID, 7), (ID, True), (ID, "x" * (ID_MAX_LENGTH + 1)), (ID, ["a"])]
        found += [(ID, "x" * ID_MAX_LENGTH), (ID, ""), (ID, "é☃")]  # valid: both accept
    return found


@pytest.mark.parametrize("seed", range(4))
def test_bad_rows_get_the_request_validators_errors(rows: list[dict[str, Any]], seed: int) -> None:
    """Property-style: one or more rows of a batch changed at random, both verdicts equal."""
    rng = random.Random(seed)
    mutations = _mutations()
    for _ in range(150):
        batch = [dict(row) for row in rng.sample(rows, rng.randint(1, MAX_ROWS))]
        for _ in range(rng.choice((1, 1, 2, 3))):
            name, value = rng.choice(mutations)
            row = rng.choice(batch)
            if value is _DROP:
                row.pop(name, None)
            else:
                row[name] = value
        body = _body(batch)
        expected = _both(body)
        if expected[0] != "ok":
            assert BATCH.fast(body) is None  # never taken for a body the validator refuses


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"7",
        b'"rows"',
        b"[]",
        b"{}",
        b'{"rows": []}',
        b'{"rows": "x"}',
        b'{"rows": {}}',
        b'{"rows": [1]}',
        b'{"rows": [[]]}',
        b'{"rows": [null]}',
        b'{"rows": [{}]}',
        b'{"rows": [{}], "more": 1}',
        b'{"rows": [{"tenure": NaN}]}',
        b'{"rows": [{"tenure": Infinity}]}',
        b'{"rows": [{"tenure": 1e999}]}',
        b'{"rows": [{"tenure": 1,',
        b"\xff\xfe not utf-8",
        rb'{"rows": [{"gender": "\ud800"}]}',
    ],
)
def test_wrong_shapes_and_malformed_bodies_get_the_same_errors(body: bytes) -> None:
    _both(body)
    assert BATCH.fast(body) is None


def _with_number(row: dict[str, Any], text: str) -> bytes:
    """A one-row body with the first numeric column's value written as `text` (NaN, 1e999)."""
    name = next(iter(CONTRACT.numeric))
    sentinel = 0.123456789012345
    body = _body([dict(row, **{name: sentinel})]).decode()
    return body.replace(repr(sentinel), text).encode()


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "12.000"])
def test_non_finite_and_unusual_numbers_agree(rows: list[dict[str, Any]], text: str) -> None:
    _both(_with_number(rows[0], text))


# orjson reads an integer beyond 64 bits as a float; pydantic-core keeps it whole.
BEYOND_64_BITS = ["18446744073709551616", "-9223372036854775809", "1" + "0" * 40]


@pytest.mark.parametrize("text", BEYOND_64_BITS)
def test_integers_beyond_64_bits_agree_in_every_number_column(
    rows: list[dict[str, Any]], text: str
) -> None:
    """Numeric columns, and categorical ones whose values are integers."""
    sentinel = 0.123456789012345
    coded = [name for name, spec in CONTRACT.categorical.items() if spec.dtype == "int"]
    for name in [*CONTRACT.numeric, *coded]:
        body = _body([dict(rows[0], **{name: sentinel})]).decode()
        body = body.replace(repr(sentinel), text).encode()
        expected = _outcome(VALIDATORS.batch.validate_json, body)
        assert _typed(_outcome(BATCH.validate_json, body)) == _typed(expected), name


def test_too_many_rows_and_the_extra_key_get_the_same_errors(rows: list[dict[str, Any]]) -> None:
    assert _both(_body(rows[: MAX_ROWS + 1]))[0] != "ok"
    extra = json.dumps({"rows": rows[:2], "more": True}).encode()
    assert _both(extra)[0] != "ok"
    assert BATCH.fast(extra) is None


def test_duplicate_keys_are_read_as_the_validator_reads_them(rows: list[dict[str, Any]]) -> None:
    name = next(iter(CONTRACT.numeric))
    body = _body([rows[0]]).decode()
    key = json.dumps(name)
    doubled = body.replace(f"{key}: ", f'{key}: "not a number", {key}: ', 1).encode()
    _both(doubled)
