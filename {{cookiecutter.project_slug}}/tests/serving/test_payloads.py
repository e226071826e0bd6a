"""Request bodies drawn from the configured data: a Parquet file gives what its CSV gives.

The load test, the release's smoke checks and the image smoke test send rows of the
configured data file; a team whose data is Parquet gets the same typed requests.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from {{ cookiecutter.package_name }}.serving.payloads import all_rows, sample_rows

from ..conftest import contract


def test_a_parquet_file_gives_the_requests_its_csv_gives(sample_csv: Path, tmp_path: Path) -> None:
    typed = pd.read_csv(sample_csv).head(300)  # pandas' own types: ints, floats, text, nulls
    csv_copy, parquet_copy = tmp_path / "rows.csv", tmp_path / "rows.parquet"
    typed.to_csv(csv_copy, index=False)
    typed.to_parquet(parquet_copy, index=False)
    spec = contract()
    assert all_rows(parquet_copy, spec) == all_rows(csv_copy, spec)
    assert sample_rows(parquet_copy, spec, 20, seed=3) == sample_rows(csv_copy, spec, 20, seed=3)
