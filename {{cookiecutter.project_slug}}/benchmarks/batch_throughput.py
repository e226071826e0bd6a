"""Batch scoring throughput, end to end: read, check, score, write, on 1 million rows.

Replicates the configured data (the sample) to `--rows` rows in a scratch CSV,
then times, each in a fresh process so peak memory is its own:

- `predict` as `make predict` runs it (pyarrow reader where installed);
- `predict --reader csv`, the standard library's reader the serving image uses;
- the same scoring through the scikit-learn pipeline the usual way: pandas reads
  the whole file, the contract types it, `predict_proba`, pandas writes it.

Prints rows per second, peak memory (max RSS) and the ratio to the pipeline.
Goal: at least 200,000 rows/s and never slower than the pipeline. No timing is
asserted: run it with `make bench-batch` and read the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from {{ cookiecutter.package_name }}.contract.model import load_contract, training_data_path
from {{ cookiecutter.package_name }}.settings import Settings

GOAL_ROWS_PER_S = 200_000

PIPELINE_SCRIPT = """
import sys
import joblib, numpy as np
from {{ cookiecutter.package_name }}.contract.datasets import read_raw, to_typed
from {{ cookiecutter.package_name }}.contract.model import load_contract
from {{ cookiecutter.package_name }}.layout import ModelMetadata
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.train import training

settings = Settings()
contract = load_contract(settings.contract_path)
model_dir = settings.current_model_dir
metadata = ModelMetadata.read(model_dir)
pipeline = joblib.load(model_dir / metadata.model_file)
frame = read_raw(__import__("pathlib").Path(sys.argv[1]))
typed = to_typed(frame.assign(**{contract.target.column: contract.target.negative}), contract)
proba = pipeline.predict_proba(training.feature_frame(typed, contract))[:, 1]
out = typed[[contract.id_column]].copy()
out["probability"] = np.round(proba, 6)
positive, negative = contract.target.positive, contract.target.negative
out["label"] = np.where(proba >= metadata.threshold, positive, negative)
out["model_version"] = metadata.model_version
out.to_csv(sys.argv[2], index=False)
"""


def replicate(source: Path, target: Path, rows: int) -> None:
    """Write `rows` data rows by repeating `source`'s rows (one header)."""
    lines = source.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    with target.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        full, rest = divmod(rows, len(body))
        block = "\n".join(body) + "\n"
        for _ in range(full):
            out.write(block)
        if rest:
            out.write("\n".join(body[:rest]) + "\n")


def timed(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident memory (MB) of one process that must succeed.

    CPU seconds say what the work costs when other processes share the machine.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        assert process.stderr is not None
        sys.exit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-3000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    """Replicate the data, time the three ways of scoring it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to score")
    args = parser.parse_args()
    settings = Settings()
    source = training_data_path(settings, load_contract(settings.contract_path))
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch:
        folder = Path(scratch)
        data = folder / "input.csv"
        replicate(source, data, args.rows)
        size_mb = data.stat().st_size / 1e6
        print(f"{args.rows:,} rows ({size_mb:,.0f} MB) replicated from {source.name}")
        package = "{{ cookiecutter.package_name }}"
        cli = [sys.executable, "-m", package, "predict", str(data), "-o"]
        runs = {
            "predict (pyarrow reader)": [*cli, str(folder / "a.csv"), "--reader", "arrow"],
            "predict (csv module, as in the image)": [
                *cli,
                str(folder / "b.csv"),
                "--reader",
                "csv",
            ],
            "scikit-learn pipeline (pandas)": [
                sys.executable,
                "-c",
                PIPELINE_SCRIPT,
                str(data),
                str(folder / "c.csv"),
            ],
        }
        results = {}
        for name, command in runs.items():
            seconds, cpu, peak = timed(command)
            results[name] = seconds
            rate = args.rows / seconds
            print(
                f"{name:38} {seconds:6.1f} s {rate:>10,.0f} rows/s  (CPU {cpu:5.1f} s)  "
                f"peak {peak:,.0f} MB"
            )
        pipeline = results["scikit-learn pipeline (pandas)"]
        best = results["predict (pyarrow reader)"]
        csv_module = results["predict (csv module, as in the image)"]
        verdict = "met" if args.rows / best >= GOAL_ROWS_PER_S else "NOT met"
        print(
            f"predict is {pipeline / best:.1f}x the pipeline's throughput "
            f"(csv module: {pipeline / csv_module:.1f}x); "
            f"goal {GOAL_ROWS_PER_S:,} rows/s: {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
