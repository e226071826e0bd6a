"""A rendered project releases blue/green for real, the way a user does it.

The generated project's deploy integration tests (real nginx, real service
processes under client load, four faulty releases, a killed deploy, AWS on
moto) run in `test_generated_project` as part of the default combination's
`make all`; here is the user's path: train, `make deploy-local`, train a new
version, `make deploy-local` again (switches colours), a faulty release
(`FAULT=error`, rolled back), and `deploy stop`, which must leave nothing behind.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import project_env, render
from .test_generated_project import make


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run(project: Path, *command: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=project, env=project_env(), capture_output=True, text=True, timeout=timeout
    )
    print(f"{' '.join(command)}: {time.perf_counter() - started:.1f}s, exit {result.returncode}")
    return result


@pytest.mark.slow
def test_rendered_project_releases_blue_green(tmp_path: Path) -> None:
    project = render(tmp_path, cloud="aws", registry="ecr")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    make(project, "setup")

    production, test = free_port(), free_port()
    config = project / "config" / "deploy.yaml"
    text = config.read_text()
    text = text.replace("production_port: 8080", f"production_port: {production}")
    text = text.replace("test_port: 8081", f"test_port: {test}")
    text = text.replace("step_seconds: 5", "step_seconds: 1").replace("seconds: 10 ", "seconds: 2 ")
    config.write_text(text)

    make(project, "train")
    first = make(project, "deploy-local")
    assert "RELEASED 1" in first.stdout
    make(project, "train")  # registers version 2 of the same model
    second = make(project, "deploy-local")
    assert "RELEASED 2" in second.stdout
    state = json.loads((project / "deploy" / "state" / "local.json").read_text())
    assert (state["live"]["colour"], state["previous"]["colour"]) == ("green", "blue")

    faulty = subprocess.run(
        ["make", "-C", str(project), "deploy-local", "FAULT=error"],
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert faulty.returncode != 0
    assert "ROLLED BACK 2: validation failed: /predict answered 500" in faulty.stdout
    status = run(project, "uv", "run", "churn_prediction", "deploy", "status")
    assert '"live": "green 2' in status.stdout

    make(project, "deploy-stop")
    ports = [production, test, state["live"]["port"], state["previous"]["port"]]
    assert not any(listening(port) for port in ports)
    for pattern in (f"{project}/deploy", f"{project}/.venv/bin/python -m churn_prediction serve"):
        leftovers = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        assert leftovers.stdout == "", pattern
