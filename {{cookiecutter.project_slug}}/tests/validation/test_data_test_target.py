"""`make data-test` as CI runs it: validation first, in the data tests' process, then the tests.

A bad data file must stop the target at the validation, with its table, before
any data test runs (as the separate `validate` step did), and leave no receipt
for `make train` to trust. (The good data's path, reports and receipt reused by
training, is what every `make ci` of the template's tests checks.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.contract.datasets import read_raw
from {{ cookiecutter.package_name }}.layout import DATA_VALIDATION_HTML
from {{ cookiecutter.package_name }}.validation.receipt import RECEIPT_FILE

from ..conftest import PROJECT_DIR, SAMPLE, contract

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def make_data_test(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", "data-test"],
        cwd=PROJECT_DIR,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_bad_data_stops_make_data_test_before_the_data_tests(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is not installed: `make system-deps` installs it")
    target = contract().target.column
    bad = tmp_path / "no_target.csv"
    read_raw(SAMPLE).drop(columns=[target]).to_csv(bad, index=False)  # CSV or Parquet data
    reports = tmp_path / "reports"
    result = make_data_test(MLOPS_DATA_PATH=str(bad), MLOPS_REPORTS_DIR=str(reports))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "data validation failed:" in output
    assert target in output  # the failure table names the missing column
    assert "the data tests were not run" in output
    assert "collected" not in output  # stopped before collecting a single data test
    assert (reports / DATA_VALIDATION_HTML).is_file()
    assert not (reports / RECEIPT_FILE).exists()
