"""Start the model service as a real process on 127.0.0.1, wait until ready, stop it.

Used by the load test, the smoke checks and the local blue/green platform: the
service is always exercised as users run it, over HTTP, never in-process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..settings import PACKAGE_NAME


class ServiceStartError(RuntimeError):
    """The service exited or did not become ready in time; the message has its last log lines."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, body: Any = None, timeout: float = 5.0) -> tuple[int, Any]:
    """GET (or POST `body` as JSON) and return status and decoded JSON (None if not JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


@dataclass
class ServiceProcess:
    """A running service and where its output goes."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the service wrote (for error messages)."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (graceful: in-flight requests finish), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_service(
    project_dir: Path,
    port: int,
    log_path: Path,
    env: dict[str, str] | None = None,
    model_dir: Path | None = None,
    *,
    detach: bool = False,
) -> ServiceProcess:
    """Launch `<package> serve` on 127.0.0.1:`port`; output goes to `log_path`.

    `detach` puts the service in its own session, so it outlives the command that
    started it and ignores the terminal's Ctrl-C (a deployed service must not die
    with the deploy command).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    environment = dict(os.environ)
    environment.update(env or {})
    environment["MLOPS_PROJECT_DIR"] = str(project_dir)
    if model_dir is not None:
        environment["MLOPS_MODEL_DIR"] = str(model_dir)
    command = [
        sys.executable,
        "-m",
        PACKAGE_NAME,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    handle: IO[bytes] = log_path.open("ab")
    try:
        process = subprocess.Popen(
            command,
            cwd=project_dir,
            env=environment,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=detach,
        )
    finally:
        handle.close()
    return ServiceProcess(process, f"http://127.0.0.1:{port}", log_path)


def wait_ready(service: ServiceProcess, timeout: float = 60.0) -> None:
    """Poll /ready until it answers 200; fail fast if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise ServiceStartError(
                f"the service exited with code {service.process.returncode}:\n{service.log_tail()}"
            )
        try:
            status, _ = http_json(f"{service.url}/ready", timeout=1.0)
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.2)
    raise ServiceStartError(
        f"the service was not ready after {timeout:.0f} s:\n{service.log_tail()}"
    )
