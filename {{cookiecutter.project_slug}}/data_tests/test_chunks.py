"""Validating a file chunk by chunk gives the verdict of validating it whole.

The configured data is validated at once (one chunk) and in three chunks (their
size follows the data's row count), clean and with corruptions placed in
different chunks (an id repeated across chunks, a value outside a categorical
column's list late in the file, a short line); every check must agree on its
status and on how many rows broke it. Columns are picked from the contract, so
the test follows the project's data (configured Parquet data is validated as its
CSV copy). A data test: it runs in the data tests' process, whose Great
Expectations engine is already built.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.contract.datasets import DataLimits
from {{ cookiecutter.package_name }}.contract.model import Bounds
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation.outcome import ValidationOutcome
from {{ cookiecutter.package_name }}.validation.rules import load_rules
from {{ cookiecutter.package_name }}.validation.service import DataValidator


@pytest.fixture(scope="module")
def chunk(sample_csv: Path) -> int:
    """Rows per chunk: three chunks, whatever the data's size."""
    with sample_csv.open(newline="", encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1
    return -(-rows // 3)


def corrupted(
    validator: DataValidator, sample_csv: Path, chunk: int, tmp_path: Path
) -> tuple[Path, set[str]]:
    """A copy of the data with three corruptions in different chunks, and the checks they break."""
    spec = validator.contract
    with sample_csv.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    broken = {"lines:complete"}
    first, last = chunk // 2, min(len(rows) - 1, 2 * chunk + chunk // 2)
    rows[first] = rows[first][:5]  # a short line in chunk 1
    if spec.categorical:  # a value outside a categorical column's list, in chunk 3
        column, check = next(iter(spec.categorical)), "allowed"
    else:  # all-numeric data: text in a numeric column, in chunk 3
        column, check = next(iter(spec.numeric)), "type"
    rows[last][header.index(column)] = "not one of the listed values"
    broken.add(f"{column}:{check}")
    if spec.id_column:  # the first row's id again, in chunk 3
        rows[last - 1][header.index(spec.id_column)] = rows[0][header.index(spec.id_column)]
        broken.add(f"{spec.id_column}:unique")
    path = tmp_path / "corrupted.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path, broken


def verdicts(outcome: ValidationOutcome) -> dict[str, tuple[str, int | None]]:
    return {r.check.key: (r.status, r.unexpected_count) for r in outcome.results}


def test_the_sample_passes_in_chunks_as_it_does_whole(
    validator: DataValidator, sample_csv: Path, chunk: int
) -> None:
    whole = validator.validate_path(sample_csv).outcome
    chunked = validator.validate_path(sample_csv, DataLimits(chunk_rows=chunk)).outcome
    chunks = -(-whole.rows // chunk)
    assert (whole.chunks, chunked.chunks) == (1, chunks)
    assert chunks > 1
    assert chunked.success
    assert verdicts(chunked) == verdicts(whole)
    assert chunked.rows == whole.rows
    assert f"in {chunks} chunks" in chunked.summary_line()


def test_corruptions_in_different_chunks_are_all_found(
    validator: DataValidator, sample_csv: Path, chunk: int, tmp_path: Path
) -> None:
    path, broken = corrupted(validator, sample_csv, chunk, tmp_path)
    whole = validator.validate_path(path).outcome
    chunked = validator.validate_path(path, DataLimits(chunk_rows=chunk)).outcome
    assert verdicts(chunked) == verdicts(whole)
    assert broken <= {r.check.key for r in chunked.failures}
    for result in chunked.results:
        if result.check.key.endswith(":unique") and result.check.key in broken:
            assert result.unexpected_count == 2
            assert result.examples  # the duplicated id is named


def test_reading_stops_once_the_file_has_more_rows_than_the_contract_allows(
    validator: DataValidator, settings: Settings, sample_csv: Path, chunk: int
) -> None:
    limited = validator.contract.model_copy(update={"rows": Bounds(min=None, max=chunk - 1)})
    limiting = DataValidator(limited, load_rules(settings.data_rules_path, limited))
    outcome = limiting.validate_path(sample_csv, DataLimits(chunk_rows=chunk)).outcome
    assert outcome.stopped_at == chunk  # one chunk read, the rest left unread
    assert [r.check.key for r in outcome.failures] == ["table:rows"]
    assert f"stopped reading after {chunk:,} rows" in outcome.failure_table()
