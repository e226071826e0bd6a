"""Peak memory of `validate` on a large file, and how fast the default limits refuse it.

Writes a CSV of `--size-mb` (default 2,048: 2 GB, ~11 million rows) by repeating
the configured data with fresh ids, then runs the project's CLI on it, as a
user would, in child processes:

1. under the default limits (MLOPS_MAX_DATA_MB = 1,024): `validate` and `train`
   must refuse it at once, with one line each; their wall times are printed;
2. within raised limits (MLOPS_MAX_DATA_MB above the file's size, and a copy of
   the contract whose `rows.max` admits it): `train` must still refuse it, by its
   memory budget, before reading it; `validate` streams the file in chunks; its
   wall time and peak resident memory are printed (goal < 1 GiB).

Run it with `make bench-validate-memory` (add SIZE_MB=200 for a quick run). It
needs about twice `--size-mb` of free disk in the scratch folder, and removes
the file afterwards unless `--keep` is given.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from {{ cookiecutter.package_name }}.contract.model import load_contract, training_data_path
from {{ cookiecutter.package_name }}.settings import PACKAGE_NAME, Settings

GOAL_BYTES = 1024**3


def write_big_csv(source: Path, target: Path, size_bytes: int, id_column: str | None) -> int:
    """`source` repeated (ids made unique) until `target` holds `size_bytes`; returns rows."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    first_is_id = id_column is not None and header.split(",")[0] == id_column
    rows = 0
    written = len(header)
    copy = 0
    with target.open("w", encoding="utf-8") as out:
        out.write(header)
        while written < size_bytes:
            copy += 1
            if first_is_id:
                block = "".join(
                    f"{line.split(',', 1)[0]}-{copy},{line.split(',', 1)[1]}" for line in body
                )
            else:
                block = "".join(body)
            out.write(block)
            written += len(block)
            rows += len(body)
    return rows


def run(command: list[str], env: dict[str, str]) -> tuple[int, str, float, int]:
    """Exit code, output, wall seconds and peak resident bytes of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, output, time.perf_counter() - started, usage.ru_maxrss * 1024


def last_line(output: str) -> str:
    """The last non-blank line a command printed (its verdict or its error)."""
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def main() -> int:
    """Write the file, run the refusals and the streamed validation, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=2048.0, help="file size (default 2048)")
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()

    settings = Settings()
    contract = yaml.safe_load(settings.contract_path.read_text(encoding="utf-8"))
    scratch = Path(tempfile.mkdtemp(prefix="bench-validate-", dir=args.dir))
    big = scratch / "big.csv"
    started = time.perf_counter()
    source = training_data_path(settings, load_contract(settings.contract_path))
    rows = write_big_csv(source, big, int(args.size_mb * 1024 * 1024), contract.get("id_column"))
    size = big.stat().st_size
    print(f"file:       {big} ({size / 1e9:.2f} GB, {rows:,} rows), written in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip

    cli = [sys.executable, "-m", PACKAGE_NAME]
    # Everything a command writes goes to the scratch folder, never into the project.
    base = {
        **os.environ,
        "MLOPS_REPORTS_DIR": str(scratch / "reports"),
        "MLOPS_MODELS_DIR": str(scratch / "models"),
        "MLOPS_METRICS_DIR": str(scratch / "metrics"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}",
    }
    for name in ("MLOPS_MAX_DATA_MB", "MLOPS_TRAIN_MEMORY_MB", "MLOPS_VALIDATION_CHUNK_ROWS"):
        base.pop(name, None)
    try:
        for command in ("validate", "train"):
            env = {**base, "MLOPS_DATA_PATH": str(big)}
            code, output, seconds, _ = run([*cli, command], env)
            print(f"default limits, {command}: exit {code} in {seconds:.2f} s: {last_line(output)}")

        contract.setdefault("rows", {})["max"] = rows + 1
        raised_contract = scratch / "contract.yaml"
        raised_contract.write_text(yaml.safe_dump(contract), encoding="utf-8")
        env = {
            **base,
            "MLOPS_MAX_DATA_MB": str(size / 1024 / 1024 + 1),
            "MLOPS_CONTRACT_PATH": str(raised_contract),
        }
        code, output, seconds, _ = run([*cli, "train"], {**env, "MLOPS_DATA_PATH": str(big)})
        print(f"raised size limit, train: exit {code} in {seconds:.2f} s: {last_line(output)}")
        code, output, seconds, peak = run([*cli, "validate", str(big)], env)
        print(f"raised limits, validate: exit {code} in {seconds:.0f} s "
              f"({rows / seconds:,.0f} rows/s): {last_line(output)[:160]}")  # fmt: skip
        verdict = "within" if peak < GOAL_BYTES else "OVER"
        print(f"peak memory of validate: {peak / 1024**2:,.0f} MiB "
              f"({verdict} the goal of {GOAL_BYTES / 1024**2:,.0f} MiB)")  # fmt: skip
        return 0 if code == 0 and peak < GOAL_BYTES else 1
    finally:
        if not args.keep:
            big.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
