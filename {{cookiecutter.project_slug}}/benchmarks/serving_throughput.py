"""Throughput and latency of this service against `mlflow models serve`, same model, same machine.

Both serve the model in models/current (ours through the ONNX export, MLflow
through the logged scikit-learn pipeline), one worker each, on 127.0.0.1. wrk
drives each at 1 and 16 connections (locust tops out near 750 requests/s on 2
cores, wrk does not). Prints requests/s, p50, p99 and the ratios.

Usage: uv run python benchmarks/serving_throughput.py [--seconds 10]
Needs: `make train` first, and wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from {{ cookiecutter.package_name }}.contract.model import (  # noqa: E402
    load_contract,
    training_data_path,
)
from {{ cookiecutter.package_name }}.probes import free_port, http_json  # noqa: E402
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows  # noqa: E402
from {{ cookiecutter.package_name }}.serving.process import (  # noqa: E402
    start_service,
    wait_ready,
)
from {{ cookiecutter.package_name }}.settings import Settings  # noqa: E402

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{body}]]
"""


def failed_requests(wrk_output: str) -> tuple[int, int]:
    """(non-2xx answers, socket errors: connect, read, write and timeouts) in wrk's report."""
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk_output)
    broken = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk_output
    )
    socket_errors = sum(map(int, broken.groups())) if broken else 0
    return (int(refused.group(1)) if refused else 0, socket_errors)


def wrk(
    url: str, body: str, connections: int, seconds: int, workdir: Path, *, log: Path | None = None
) -> dict[str, float]:
    """Run wrk and return requests/s, p50 and p99 in milliseconds.

    A run where any request failed (a non-2xx answer, a socket error or timeout)
    stops the benchmark: its requests/s would be the speed of failures. The
    server's `log`, when given, says why.
    """
    script = workdir / f"post-{connections}.lua"
    script.write_text(LUA.format(body=body))
    threads = min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    out = subprocess.run(
        [*command, "-s", str(script), url], capture_output=True, text=True, check=True
    ).stdout

    def pct(name: str) -> float:
        match = re.search(rf"^\s+{name}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert match, out
        return float(match.group(1)) * UNITS[match.group(2)]

    refused, broken = failed_requests(out)
    if refused or broken:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log else ""
        raise SystemExit(
            f"{url}: {refused} non-2xx answers and {broken} socket errors under wrk "
            f"(-c{connections}, {seconds} s); figures of failures would mislead, so none are "
            f"printed. wrk said:\n{out.strip()}\nthe server's log ends:\n{tail or '(no log)'}"
        )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": pct("50"),
        "p99": pct("99"),
    }


def start_mlflow(model_uri: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`mlflow models serve --env-manager local`, one worker; needs the venv's bin on PATH."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "-h", "127.0.0.1",
         "-p", str(port), "--env-manager", "local", "-w", "1"],
        cwd=PROJECT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def wait_mlflow(port: int, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    """Poll /ping until MLflow's server answers (it takes 12-18 s to start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("mlflow models serve exited early")
        try:
            if http_json(f"http://127.0.0.1:{port}/ping", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("mlflow models serve was not ready in time")


def measure(
    url: str, body: str, seconds: int, work: Path, log: Path
) -> dict[int, dict[str, float]]:
    """Run wrk at 1 and 16 connections (`log`: the server's, quoted if a request fails)."""
    return {conns: wrk(url, body, conns, seconds, work, log=log) for conns in (1, 16)}


def main() -> int:
    """Run both servers in turn and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    metadata_path = PROJECT / "models" / "current" / "metadata.json"
    if not metadata_path.is_file():
        raise SystemExit("no trained model: run `make train` first")
    tracked = json.loads(metadata_path.read_text())["mlflow"]
    os.environ.setdefault("MLFLOW_TRACKING_URI", tracked["tracking_uri"])
    settings = Settings(project_dir=PROJECT)
    contract = load_contract(settings.contract_path)
    rows = sample_rows(training_data_path(settings, contract), contract, 50, seed=3)
    row = next(r for r in rows if all(v is not None for v in r.values()))
    features = {k: v for k, v in row.items() if k != contract.id_column}
    results: dict[str, dict[int, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours = start_service(PROJECT, free_port(), work / "ours.log")
        try:
            wait_ready(ours)
            url = f"{ours.url}/predict"
            results["this service (ONNX)"] = measure(
                url, json.dumps(row), args.seconds, work, ours.log_path
            )
        finally:
            ours.stop()
        port = free_port()
        mlflow = start_mlflow(tracked["model_uri"], port, work / "mlflow.log")
        try:
            wait_mlflow(port, mlflow)
            body = json.dumps({"dataframe_records": [features]})
            url = f"http://127.0.0.1:{port}/invocations"
            results["mlflow models serve"] = measure(
                url, body, args.seconds, work, work / "mlflow.log"
            )
        finally:
            os.killpg(mlflow.pid, signal.SIGTERM)
            mlflow.wait(timeout=30)
    print(f"\n{'server':24} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, by_conn in results.items():
        for conns, r in by_conn.items():
            numbers = f"{r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f}"
            print(f"{name:24} {conns:5d} {numbers}")
    ours_r, theirs = results["this service (ONNX)"], results["mlflow models serve"]
    for conns in (1, 16):
        ratio = ours_r[conns]["rps"] / theirs[conns]["rps"]
        print(
            f"ratio at {conns:2d} connection(s): {ratio:.1f}x throughput, "
            f"p99 {ours_r[conns]['p99']:.1f} ms vs {theirs[conns]['p99']:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
