"""Blue/green test helpers: the deploy command, a client load that records every answer,
versioned model folders."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from {{ cookiecutter.package_name }}.probes import free_port, http_json
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows

from ..conftest import PROJECT_DIR, SAMPLE, build_model_dir, contract

ROWS = sample_rows(SAMPLE, contract(), 50, seed=3)
RETRY_PAUSE_SECONDS = 0.02  # a load client's pause after a failed connection
ID_COLUMN = contract().id_column


@dataclass
class Answer:
    at: float
    status: int
    colour: str
    version: str | None
    request_id: str = ""


@dataclass
class ClientLoad:
    """Threads sending predictions to production over keep-alive connections, like real clients.

    Every request carries its own id, so a test can look each answered prediction
    up in the prediction log; every failure is timed, so a test can measure an outage.
    """

    port: int
    threads: int = 4
    pause: float = 0.005
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failure_times: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def sent(self) -> int:
        """Requests sent (answered or failed)."""
        return len(self.answers) + len(self.failure_times)

    def outage(self, after: float) -> tuple[float, float]:
        """(first to last failure after `after`, `after` to the first success after the last)."""
        failed = [t for t in self.failure_times if t >= after]
        if not failed:
            return 0.0, 0.0
        recovered = min(
            (a.at for a in self.answers if a.at > max(failed) and a.status == 200),
            default=float("inf"),
        )
        return max(failed) - min(failed), recovered - after

    def lost(self, log_dir: Path) -> int:
        """Answered predictions that are neither in the prediction log nor counted as dropped."""
        from {{ cookiecutter.package_name }}.contract.pii import pii_hash
        from {{ cookiecutter.package_name }}.monitoring.prediction_log import (
            has_records,
            read_prediction_log,
        )

        logged = {r.id for r in read_prediction_log(log_dir)} if has_records(log_dir) else set()
        answered = {a.request_id for a in self.answers if a.status == 200}
        return sum(1 for i in answered if pii_hash(i) not in logged)

    def _client(self, index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = index
        while not self._stop.is_set():
            i += 1
            batch = i % 2 == 0
            path = "/predict/batch" if batch else "/predict"
            request_id = f"load-{index}-{i}"
            row = dict(ROWS[i % len(ROWS)])
            if ID_COLUMN:  # the id the prediction log must show (hashed) for this answer
                row[ID_COLUMN] = request_id
            body = json.dumps({"rows": [row]} if batch else row)
            started = time.monotonic()
            try:
                connection.request("POST", path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as err:
                self.failures.append(f"{path}: {type(err).__name__}: {err}")
                self.failure_times.append(started)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                # A refused connection fails in microseconds: without a pause, four
                # threads would retry thousands of times a second (1.4 cores measured)
                # and starve the nginx restart the test is timing. Real clients back off.
                self._stop.wait(RETRY_PAUSE_SECONDS)
                continue
            version = (
                json.loads(payload).get("model_version")
                if batch and response.status == 200
                else None
            )
            self.answers.append(
                Answer(
                    started,
                    response.status,
                    response.getheader("X-Colour", "-"),
                    version,
                    request_id,
                )
            )
            if response.status != 200:
                self.failures.append(f"{path}: HTTP {response.status}: {payload[:200]!r}")
                self.failure_times.append(started)
            time.sleep(self.pause)
        connection.close()

    @contextmanager
    def running(self) -> Iterator[ClientLoad]:
        workers = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            self._stop.set()
            for worker in workers:
                worker.join(timeout=60)

    def versions(self) -> list[tuple[float, str]]:
        return [(a.at, a.version) for a in self.answers if a.version is not None]


def model_version_dir(root: Path, version: str) -> Path:
    """A real small model whose metadata says `version` (what /version reports)."""
    return build_model_dir(
        root / f"model-{version}", rows=1500 + 100 * int(version), version=version
    )


CONFIG = """
traffic: {steps: [10, 50, 100], step_seconds: 1}
bake: {seconds: 2, poll_seconds: 0.25, max_error_rate: 0.01, max_p95_ms: 1000, min_requests: 20}
validation:
  ready_timeout_seconds: 8
  smoke_predictions: 3
  load: {users: 4, spawn_rate: 4, duration: 3s, max_p95_ms: 400, min_requests: 50}
local: {drain_seconds: 0.5}
"""


class Deployer:
    """Runs `<package> deploy` against a private deploy folder, ports and prediction log."""

    def __init__(self, root: Path, config: str = CONFIG) -> None:
        self.root = root
        self.production_port = free_port()
        self.test_port = free_port()
        self.log_dir = root / "predictions"
        self._output_from = 0  # where the output of the release `start` launched last begins
        (root / "deploy.yaml").write_text(config)
        self.env = {
            **os.environ,
            "MLOPS_DEPLOY_DIR": str(root / "deploy"),
            "MLOPS_DEPLOY_CONFIG_PATH": str(root / "deploy.yaml"),
            "MLOPS_REPORTS_DIR": str(root / "reports"),
            "MLOPS_PREDICTION_LOG_DIR": str(self.log_dir),
            # The validation load gate's users pause up to 50 ms between requests
            # (loadtests/locustfile.py): these tests judge a release's steps, not the
            # machine's capacity, which `make loadtest` measures at full speed (`make
            # chaos`: 9 % less CPU, and as long).
            "MLOPS_LOADTEST_WAIT": "0.05",
        }

    def command(self, *args: str) -> list[str]:
        ports = ["--production-port", str(self.production_port), "--test-port", str(self.test_port)]
        return [
            sys.executable,
            "-m",
            "{{ cookiecutter.package_name }}",
            "deploy",
            *args,
            *ports,
        ]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args),
            cwd=PROJECT_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        print(result.stdout[-3000:], result.stderr[-2000:])
        return result

    def state(self) -> dict[str, object]:
        path = self.root / "deploy" / "state" / "local.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """The deploy command in the background (a test kills it, or waits for it)."""
        output = (self.root / "deploy.out").open("ab")
        self._output_from = output.tell()  # where this release's output begins
        try:
            return subprocess.Popen(
                self.command(*args), cwd=PROJECT_DIR, env=self.env, stdout=output, stderr=output
            )
        finally:
            output.close()

    def wait_phase(self, *phases: str, timeout: float = 90.0) -> str:
        """Poll the state file until its phase is one of `phases`; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            phase = str(self.state().get("phase", ""))
            if phase in phases:
                return phase
            time.sleep(0.02)
        state = self.state()
        log = self.root / "deploy.out"
        raise AssertionError(
            f"phase never became one of {phases}: {state.get('phase')}; last outcome "
            f"{state.get('last')}; the deploy's output ends:\n"
            + (log.read_text(errors="replace")[-3000:] if log.exists() else "(none)")
        )

    def wait_output(self, text: str, timeout: float = 90.0) -> None:
        """Poll the output of the release `start` launched last until it holds `text`.

        A phase is saved when a step begins; its output line is written when the step is
        done (a traffic shift: after nginx's reload and the check of what production
        serves), so a test that must act inside a step waits for the line.
        """
        log = self.root / "deploy.out"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with log.open("rb") as output:
                output.seek(self._output_from)
                if text in output.read().decode(errors="replace"):
                    return
            time.sleep(0.02)
        raise AssertionError(
            f"the release never printed {text!r}; its output ends:\n"
            + log.read_text(errors="replace")[-3000:]
        )

    @property
    def nginx_prefix(self) -> Path:
        return self.root / "deploy" / "local" / "nginx"

    def nginx_pids(self) -> list[int]:
        """The private nginx: its master (first) and its workers, from the pid file and /proc."""
        try:
            master = int((self.nginx_prefix / "nginx.pid").read_text())
        except (OSError, ValueError):
            return []
        workers = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                if f"PPid:\t{master}\n" in status:
                    workers.append(int(entry.name))
        return [master, *workers]

    def production_version(self) -> str | None:
        try:
            status, body = http_json(f"http://127.0.0.1:{self.production_port}/version")
        except OSError:
            return None
        return body.get("model_version") if status == 200 else None


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
