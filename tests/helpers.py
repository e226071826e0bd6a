"""What every template test needs: render, run a rendered project's commands, wait for servers.

One copy of each helper, so a fix (a timeout, a failure message, an environment
variable) reaches every test at once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

from .combinations import COMBINATIONS, OPTIONS_FILE, combo_id

TEMPLATE_DIR = OPTIONS_FILE.parent
TAIL = 6000  # characters of a failed command's output shown in the failure


# ---------------------------------------------------------------- rendering


def render(output_dir: Path, config_file: Path | None = None, **answers: str) -> Path:
    """Render the template without prompts and return the project folder.

    Without `config_file`, cookiecutter reads COOKIECUTTER_CONFIG (the autouse
    `cookiecutter_home` fixture points it into a temporary folder).
    """
    project = cookiecutter(
        str(TEMPLATE_DIR),
        no_input=True,
        extra_context=answers,
        output_dir=str(output_dir),
        config_file=None if config_file is None else str(config_file),
    )
    return Path(project)


def cookiecutter_config(home: Path) -> Path:
    """A cookiecutter config keeping replay files and cloned templates inside `home`."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {home / 'cookiecutters'}\nreplay_dir: {home / 'replay'}\n"
    )
    return config


def project_files(project: Path) -> set[str]:
    """Every file of a project folder, as POSIX paths relative to it."""
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


class Renders:
    """Each tested combination rendered once per test session, on first use.

    The projects are shared: a test that changes files copies one first
    (`renders.copy`); the session fails at the end if a shared one changed.
    """

    def __init__(self, folder: Path, config_file: Path) -> None:
        self._folder = folder
        self._config_file = config_file
        self._projects: dict[str, Path] = {}
        self._snapshots: dict[str, dict[str, tuple[int, int]]] = {}

    def __getitem__(self, combo: Mapping[str, str]) -> Path:
        if dict(combo) not in COMBINATIONS:
            raise KeyError(f"{combo_id(combo)} is not a tested combination (tests/combinations.py)")
        key = combo_id(combo)
        if key not in self._projects:
            project = render(self._folder / key, self._config_file, **combo)
            self._projects[key] = project
            self._snapshots[key] = _snapshot(project)
        return self._projects[key]

    def copy(self, combo: Mapping[str, str], folder: Path) -> Path:
        """A private copy (same folder name) of the combination's project under `folder`."""
        project = self[combo]
        return Path(shutil.copytree(project, folder / project.name, symlinks=True))

    def changed(self) -> list[str]:
        """The shared projects whose files a test changed, added or removed."""
        return [
            key
            for key, project in self._projects.items()
            if _snapshot(project) != self._snapshots[key]
        ]


def _snapshot(project: Path) -> dict[str, tuple[int, int]]:
    return {
        path.relative_to(project).as_posix(): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in project.rglob("*")
        if path.is_file()
    }


# ---------------------------------------------------------------- commands


def project_env(**extra: str) -> dict[str, str]:
    """Environment for a rendered project's commands: shared uv cache, no downloads.

    No bytecode compiled at `make setup` (as the generated Makefile's default): Python
    compiles what a project imports, once, and a minute of CPU per project is saved.
    """
    env = dict(os.environ)
    env.update(
        UV_COMPILE_BYTECODE="0",
        UV_PYTHON_DOWNLOADS="never",
        MLFLOW_DISABLE_TELEMETRY="true",
    )
    # The project's .venv keeps the bytecode Python compiles (the generated Makefile
    # unexports it too): without it every command recompiles its imports from source.
    drop = ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH")
    for name in (*drop, "MAKEFLAGS", "MFLAGS"):
        env.pop(name, None)
    env.update(extra)
    return env


def pytest_failures(output: str, limit: int = TAIL) -> str:
    """The start of each `= FAILURES =` section a generated project's pytest printed.

    A failed `make` target prints its summary last: the tail alone names the failed
    test but not the assertion that broke, which is at the start of this section.
    """
    sections = []
    start = output.find("= FAILURES =")
    while start != -1:
        line_start = output.rfind("\n", 0, start) + 1
        sections.append(output[line_start : line_start + limit])
        start = output.find("= FAILURES =", start + 1)
    return "\n...\n".join(sections)


def describe(result: subprocess.CompletedProcess[str], what: str) -> str:
    """A failed command's exit code, pytest's failure sections, and both output tails."""
    failures = pytest_failures(result.stdout)
    return (
        f"{what} failed (exit {result.returncode})\n"
        + (f"--- pytest failures ---\n{failures}\n" if failures else "")
        + f"--- stdout ---\n{result.stdout[-TAIL:]}\n--- stderr ---\n{result.stderr[-TAIL:]}"
    )


def run(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command with its output captured; with `check`, fail showing both streams."""
    command = [str(part) for part in command]
    result = subprocess.run(
        command,
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(describe(result, " ".join(command)))
    return result


def make(
    project: Path,
    *targets: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`make -C project targets` with the project environment; prints how long it took.

    With `check` (the default) a non-zero exit fails the test with both output tails.
    """
    started = time.perf_counter()
    result = run(
        ["make", "-C", str(project), *targets],
        env=project_env() if env is None else env,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    print(f"make {' '.join(targets)} in {project.name}: {elapsed:.1f}s, exit {result.returncode}")
    if check and result.returncode != 0:
        raise AssertionError(describe(result, f"make {' '.join(targets)} in {project}"))
    return result


def uv_run(
    project: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """`uv run --quiet args` inside a set-up project (its CLI, its Python)."""
    return run(
        ["uv", "run", "--quiet", *args],
        cwd=project,
        env=project_env() if env is None else env,
        check=check,
    )


# Tests commit on machines without a git identity (a fresh CI runner): they bring their own.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "cookiecutter-mlops tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "cookiecutter-mlops tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """A git command that must succeed (with the tests' own identity); its standard output."""
    return run(["git", *args], cwd=cwd, env={**(env or os.environ), **GIT_IDENTITY}).stdout


def set_latency_calls(project: Path, calls: int) -> None:
    """Time `calls` single-row predictions per model in the project's latency gate.

    The gate's verdicts these tests check need no more (every call of a 5x slower
    model is 5x slower). Fails loudly if the shipped `gates.yaml` no longer has the
    line, rather than silently timing the full count.
    """
    gates = project / "config" / "gates.yaml"
    text, found = re.subn(r"(?m)^(\s*calls:\s*)\d+", rf"\g<1>{calls}", gates.read_text())
    assert found == 1, f"{gates}: expected one `calls:` line in the latency gate, found {found}"
    gates.write_text(text)


# ---------------------------------------------------------------- servers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def answers_ok(url: str) -> bool:
    """True when a GET of `url` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:  # refused, reset, timed out, or an HTTP error status
        return False


def wait_until(
    ready: Callable[[], bool],
    what: str,
    *,
    alive: Callable[[], bool] = lambda: True,
    logs: Callable[[], str] = lambda: "",
    timeout: float = 30,
    interval: float = 0.1,
) -> None:
    """Poll `ready` until it holds; fail at once, with the logs, when `alive` says it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise AssertionError(f"{what} exited before it was ready:\n{logs()}")
        if ready():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} was not ready after {timeout} s:\n{logs()}")


def wait_ready(
    url: str,
    *,
    alive: Callable[[], bool],
    logs: Callable[[], str] = lambda: "",
    timeout: float = 60,
) -> None:
    """Poll `url` until it answers 200; fail fast when the server process has died."""
    wait_until(lambda: answers_ok(url), url, alive=alive, logs=logs, timeout=timeout, interval=0.2)


def process_alive(process: subprocess.Popen[bytes]) -> Callable[[], bool]:
    """An `alive` check for wait_until/wait_ready: the process has not exited."""
    return lambda: process.poll() is None


def log_tail(log: Path, characters: int = 2000) -> Callable[[], str]:
    """A `logs` callable for wait_until/wait_ready: the end of a log file."""
    return lambda: log.read_text(errors="replace")[-characters:] if log.exists() else ""


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s: a server started by a test never outlives it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_json(url: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    """GET (or POST `body` as JSON) and return the status and the parsed JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
