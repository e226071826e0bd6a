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
import subprocess
from pathlib import Path

import pytest

from .combinations import DEFAULT
from .helpers import Renders, free_port, git, listening, make, uv_run
from .system_tools import needs


@pytest.mark.slow
@needs("git", "make", "nginx")
@pytest.mark.alone  # releases validate green under load: nothing else may run beside them
def test_rendered_project_releases_blue_green(tmp_path: Path, renders: Renders) -> None:
    project = renders.copy({**DEFAULT, "cloud": "aws", "registry": "ecr"}, tmp_path)
    git(project, "init", "-q")
    make(project, "setup")

    production, test = free_port(), free_port()
    config = project / "config" / "deploy.yaml"
    text = config.read_text()
    text = text.replace("production_port: 8080", f"production_port: {production}")
    text = text.replace("test_port: 8081", f"test_port: {test}")
    # Short steps, but long enough for the release's probe traffic to be evidence:
    # 25 % of 40 probes/s for 3 s is 30 requests on green (bake.min_requests: 20).
    text = text.replace("step_seconds: 5", "step_seconds: 3").replace("seconds: 10 ", "seconds: 2 ")
    config.write_text(text)

    make(project, "train")
    first = make(project, "deploy-local")
    assert "RELEASED 1" in first.stdout
    make(project, "train")  # registers version 2 of the same model
    second = make(project, "deploy-local")
    assert "RELEASED 2" in second.stdout
    state = json.loads((project / "deploy" / "state" / "local.json").read_text())
    assert (state["live"]["colour"], state["previous"]["colour"]) == ("green", "blue")

    faulty = make(project, "deploy-local", "FAULT=error", timeout=600, check=False)
    assert faulty.returncode != 0
    assert "ROLLED BACK 2: validation failed: /predict answered 500" in faulty.stdout
    status = uv_run(project, "churn_prediction", "deploy", "status")
    assert '"live": "green 2' in status.stdout

    make(project, "deploy-stop")
    ports = [production, test, state["live"]["port"], state["previous"]["port"]]
    assert not any(listening(port) for port in ports)
    for pattern in (f"{project}/deploy", f"{project}/.venv/bin/python -m churn_prediction serve"):
        leftovers = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        assert leftovers.stdout == "", pattern
