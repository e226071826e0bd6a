"""Validating a file chunk by chunk gives the verdict of validating it whole.

The configured data is validated at once (one chunk) and in three chunks (their
size follows the data's row count), clean and with corruptions placed in
different chunks (an id repeated across chunks, a value outside a categorical
column's list late in the file, a short line); every check must agree on its
status and on how many rows broke it. Columns are picked from the contract, so
the test follows the project's data.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.contract.datasets import DataLimits
from {{ cookiecutter.package_name }}.contract.model import Bounds
from {{ cookiecutter.package_name }}.validation.outcome import ValidationOutcome
from {{ cookiecutter.package_name }}.validation.rules import load_rules
from {{ cookiecutter.package_name }}.validation.service import DataValidator, project_validator

from ..conftest import SAMPLE, SETTINGS, contract


def _data_rows() -> int:
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


ROWS = _data_rows()
CHUNK = -(-ROWS // 3)  # three chunks, whatever the data's size
SMALL_CHUNKS = DataLimits(chunk_rows=CHUNK)


@pytest.fixture(scope="module")
def validator() -> DataValidator:
    return project_validator(SETTINGS)


def corrupted(tmp_path: Path) -> tuple[Path, set[str]]:
    """A copy of the data with three corruptions in different chunks, and the checks they break."""
    spec = contract()
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    broken = {"lines:complete"}
    first, last = CHUNK // 2, min(len(rows) - 1, 2 * CHUNK + CHUNK // 2)
    rows[first] = rows[first][:5]  # a short line in chunk 1
    category = next(iter(spec.categorical))
    rows[last][header.index(category)] = "not one of the listed values"  # chunk 3
    broken.add(f"{category}:allowed")
    if spec.id_column:  # the first row's id again, in chunk 3
        rows[last - 1][header.index(spec.id_column)] = rows[0][header.index(spec.id_column)]
        broken.add(f"{spec.id_column}:unique")
    path = tmp_path / "corrupted.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path, broken


def verdicts(outcome: ValidationOutcome) -> dict[str, tuple[str, int | None]]:
    return {r.check.key: (r.status, r.unexpected_count) for r in outcome.results}


def test_the_sample_passes_in_chunks_as_it_does_whole(validator: DataValidator) -> None:
    whole = validator.validate_path(SAMPLE).outcome
    chunked = validator.validate_path(SAMPLE, SMALL_CHUNKS).outcome
    chunks = -(-whole.rows // SMALL_CHUNKS.chunk_rows)
    assert (whole.chunks, chunked.chunks) == (1, chunks)
    assert chunks > 1
    assert chunked.success
    assert verdicts(chunked) == verdicts(whole)
    assert chunked.rows == whole.rows
    assert f"in {chunks} chunks" in chunked.summary_line()


def test_corruptions_in_different_chunks_are_all_found(
    validator: DataValidator, tmp_path: Path
) -> None:
    path, broken = corrupted(tmp_path)
    whole = validator.validate_path(path).outcome
    chunked = validator.validate_path(path, SMALL_CHUNKS).outcome
    assert verdicts(chunked) == verdicts(whole)
    assert broken <= {r.check.key for r in chunked.failures}
    for result in chunked.results:
        if result.check.key.endswith(":unique") and result.check.key in broken:
            assert result.unexpected_count == 2
            assert result.examples  # the duplicated id is named


def test_reading_stops_once_the_file_has_more_rows_than_the_contract_allows(
    tmp_path: Path,
) -> None:
    spec = contract()
    limited = spec.model_copy(update={"rows": Bounds(min=None, max=CHUNK - 1)})
    validator = DataValidator(limited, load_rules(SETTINGS.data_rules_path, limited))
    outcome = validator.validate_path(SAMPLE, SMALL_CHUNKS).outcome
    assert outcome.stopped_at == CHUNK  # one chunk read, the rest left unread
    assert [r.check.key for r in outcome.failures] == ["table:rows"]
    assert f"stopped reading after {CHUNK:,} rows" in outcome.failure_table()
