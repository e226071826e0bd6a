"""Data files that would exhaust memory: refused with one clear line, quickly, by the CLI.

A 2 GB file (sparse: it costs no disk) is over the default size limit, and a
file whose second line is one 100 MB field is over the line limit: `validate`,
`train` and `drift` must each stop with one line that names the limit and the
setting, no traceback, without reading the file into memory. Run as users run
them: the CLI in a child process, with scratch folders for whatever it writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import PROJECT_DIR

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

HUGE_FIELD_BYTES = 100 * 1024 * 1024


@pytest.fixture(scope="module")
def huge_files(tmp_path_factory: pytest.TempPathFactory, sample_csv: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("huge")
    sparse = folder / "two-gigabytes.csv"
    with sparse.open("wb") as handle:
        handle.write(sample_csv.read_bytes())
        handle.truncate(2 * 1024**3)
    long_line = folder / "hundred-megabyte-line.csv"
    header, first, *_ = sample_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    with long_line.open("w", encoding="utf-8") as handle:
        handle.write(header)
        handle.write(first.replace(",", ',"' + "x" * HUGE_FIELD_BYTES + '",', 1))
    return {"2 GB file": sparse, "100 MB line": long_line}


def cli(tmp_path: Path, *args: str, data: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {
        **os.environ,
        "MLOPS_DATA_PATH": str(data),
        "MLOPS_REPORTS_DIR": str(tmp_path / "reports"),
        "MLOPS_MODELS_DIR": str(tmp_path / "models"),
        "MLOPS_METRICS_DIR": str(tmp_path / "metrics"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    for name in ("MLOPS_MAX_DATA_MB", "MLOPS_MAX_LINE_KB", "MLOPS_TRAIN_MEMORY_MB"):
        env.pop(name, None)  # the default limits
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result, time.monotonic() - started


EXPECTED = {
    "2 GB file": "over the limit of 1,024 MiB (MLOPS_MAX_DATA_MB)",
    "100 MB line": "line 2 is longer than 1.0 MiB (MLOPS_MAX_LINE_KB)",
}


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("command", [("validate",), ("train",), ("drift", "--current")])
def test_a_file_over_the_limits_is_refused_in_one_line(
    tmp_path: Path, huge_files: dict[str, Path], kind: str, command: tuple[str, ...]
) -> None:
    data = huge_files[kind]
    args = (*command, str(data)) if command[0] == "drift" else command
    result, seconds = cli(tmp_path, *args, data=data)
    print(f"\nchaos {kind} given to `{' '.join(command)}`: refused in {seconds:.1f} s: "
          f"{result.stderr.strip()[:160]}")  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert EXPECTED[kind] in line
    assert not (tmp_path / "models").exists()  # train refused before writing anything
