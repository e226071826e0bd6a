"""Reading data within limits: size, line length, chunks, and the training memory estimate."""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.contract.datasets import (
    MIB,
    TRAIN_BYTES_PER_CSV_BYTE,
    DataLimits,
    check_lines,
    check_size,
    read_chunks,
    read_raw,
    training_memory,
)
from {{ cookiecutter.package_name }}.contract.pii import (
    is_hashed,
    pii_hash,
    pii_hash_many,
    redact,
)
from {{ cookiecutter.package_name }}.errors import DataFileError, TrainingDataError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.train.inputs import check_memory_budget

from ..conftest import PROJECT_DIR

SMALL = DataLimits(max_bytes=10_000, max_line_bytes=100, chunk_rows=2)


def csv_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(20_000)  # sparse: nothing to read, only a size
    with pytest.raises(DataFileError, match=r"over the limit of .* \(MLOPS_MAX_DATA_MB\)"):
        check_size(path, SMALL)
    for read in (read_raw, lambda p, limits: list(read_chunks(p, limits))):
        with pytest.raises(DataFileError, match="MLOPS_MAX_DATA_MB"):
            read(path, SMALL)


@pytest.mark.parametrize("line", [2, 3])
def test_a_line_over_the_limit_is_named(tmp_path: Path, line: int) -> None:
    rows = ["a,b", "1,2", "3,4"]
    rows[line - 1] = "5," + "x" * 500
    path = csv_file(tmp_path, "\n".join(rows) + "\n")
    expected = rf"line {line} is longer than .* \(MLOPS_MAX_LINE_KB\)"
    with pytest.raises(DataFileError, match=expected):
        check_lines(path, SMALL)
    with pytest.raises(DataFileError, match=expected):
        list(read_chunks(path, SMALL))
    with pytest.raises(DataFileError, match=expected):
        read_raw(path, SMALL)


def test_a_long_line_across_scan_blocks_is_found(tmp_path: Path) -> None:
    limits = DataLimits(max_line_bytes=10_000)
    short = "1,2\n" * 3000  # 12 kB of short lines: the long one starts in a later block
    path = csv_file(tmp_path, "a,b\n" + short + "3," + "y" * 15_000 + "\n4,5\n")
    with pytest.raises(DataFileError, match="line 3,002 is longer"):
        check_lines(path, limits)
    check_lines(csv_file(tmp_path, "a,b\n" + short), limits)  # no long line: fine


def test_chunks_carry_row_numbers_and_field_counts(tmp_path: Path) -> None:
    path = csv_file(tmp_path, '\ufeffid,x,x\n1,a,b\n\n2,"c\nd",e\n3\n4,f,g\n')
    chunks = list(read_chunks(path, SMALL))
    assert [list(c.frame.index) for c in chunks] == [[0, 1], [2, 3]]
    assert list(chunks[0].frame.columns) == ["id", "x", "x.1"]  # BOM gone, duplicates named
    assert chunks[0].frame.loc[1, "x"] == "c\nd"  # a quoted newline stays in its field
    assert [list(c.fields) for c in chunks] == [[3, 3], [1, 3]]  # the short line is counted
    assert chunks[1].frame.loc[2, "x.1"] == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x00\x01\x02binary", "looks binary"),
        (b"a;b;c\n1;2;3\n", "delimiter"),
        (b"a,b\n", "no rows"),
        (b"a,b\n1,2\n" + b"\xff\xfe\xfa,1\n", "not UTF-8"),
        (b'a,b\n1,"unterminated\n', "not a well-formed CSV"),
        (b"a,b\n1,2,3\n", "has 3 fields, the header has 2"),
    ],
)
def test_chunked_reading_refuses_what_whole_reading_refuses(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        list(read_chunks(path))


def test_training_memory_is_estimated_from_the_file_size(sample_csv: Path) -> None:
    needed, basis = training_memory(sample_csv)
    assert needed == sample_csv.stat().st_size * TRAIN_BYTES_PER_CSV_BYTE
    assert "of CSV" in basis


def test_training_refuses_data_beyond_its_memory_budget() -> None:
    tight = Settings(project_dir=PROJECT_DIR, train_memory_mb=1)
    with pytest.raises(TrainingDataError, match=r"over the budget of 1 MiB \(MLOPS_TRAIN"):
        check_memory_budget(tight)
    roomy = Settings(project_dir=PROJECT_DIR, train_memory_mb=1024)
    assert check_memory_budget(roomy).startswith("memory budget 1,024 MiB")
    default = Settings(project_dir=PROJECT_DIR)
    assert "half of this machine's memory" in check_memory_budget(default)
    assert default.train_memory_bytes[0] > 64 * MIB


@pytest.mark.parametrize("key", ["", "k", "secret key ü", "x" * 64, "y" * 65])
def test_hashing_many_values_makes_the_same_tokens(key: str) -> None:
    """The prediction log hashes a batch's ids with `pii_hash_many` (one HMAC state, copied)."""
    values = ["7590-VHVEG", "", "é☃" * 50, 12, 1.5, True, None]
    assert pii_hash_many(values, key) == [None if v is None else pii_hash(v, key) for v in values]


def test_personal_values_are_hashed_with_the_key_or_left_out() -> None:
    assert pii_hash("7590-VHVEG", "k") == pii_hash("7590-VHVEG", "k")
    assert pii_hash("7590-VHVEG", "k") != pii_hash("7590-VHVEG", "")
    assert is_hashed(pii_hash(1))
    assert not is_hashed("7590-VHVEG")
    values = {"gender": "Female", "tenure": 3, "id": None}
    assert redact(values, ["gender", "id"], "drop") == {"tenure": 3}
    hashed = redact(values, ["gender", "id"], "hash", "k")
    assert hashed["gender"] == pii_hash("Female", "k")
    assert hashed["id"] is None
    assert hashed["tenure"] == 3
