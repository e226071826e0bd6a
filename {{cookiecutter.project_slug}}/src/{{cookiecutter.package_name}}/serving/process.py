"""Start the model service as a real process on 127.0.0.1, wait until ready, stop it.

Used by the load test, the smoke checks and the local blue/green platform: the
service is always exercised as users run it, over HTTP, never in-process.

Child processes (the service, the load generator) get a scrubbed environment:
what a Python process needs to run plus the project's own `MLOPS_*` settings,
never the caller's cloud or CI credentials (AWS keys, GitHub tokens), which a
service or a load test has no business holding.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import ServiceStartError
from ..probes import NotReadyError, poll_until
from ..settings import PACKAGE_NAME

# What a child process may inherit: names, then prefixes. Everything else is dropped.
INHERITED = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
     "SHELL", "VIRTUAL_ENV", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"}
)  # fmt: skip
INHERITED_PREFIXES = ("LC_", "PYTHON", "MLOPS_")
# Secrets among the project's own settings that a service never needs.
WITHHELD = frozenset({"MLOPS_SLACK_WEBHOOK_URL", "MLOPS_GITHUB_ISSUE_REPO"})


def scrubbed_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment minus credentials, plus `extra`."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if (name in INHERITED or name.startswith(INHERITED_PREFIXES)) and name not in WITHHELD
    }
    kept.update(extra or {})
    return kept


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
    workers: int = 1,
) -> ServiceProcess:
    """Launch `<package> serve` on 127.0.0.1:`port`; output goes to `log_path`.

    `detach` puts the service in its own session, so it outlives the command that
    started it and ignores the terminal's Ctrl-C (a deployed service must not die
    with the deploy command).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    environment = scrubbed_environment(env)
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
        *(["--workers", str(workers)] if workers > 1 else []),
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


def wait_ready(service: ServiceProcess, timeout: float = 60.0) -> float:
    """Poll /ready until it answers 200; fail fast if the process exits. Returns the seconds."""

    def died() -> str | None:
        code = service.process.poll()
        return None if code is None else f"exited with code {code}"

    try:
        return poll_until(f"{service.url}/ready", timeout=timeout, died=died)
    except NotReadyError as err:
        raise ServiceStartError(f"the service {err}:\n{service.log_tail()}") from err
