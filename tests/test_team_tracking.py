"""Team mode: two project copies (two team members) share one tracking server.

`make tracking-server` runs in one copy with Debian's PostgreSQL (a private cluster
started as the `postgres` user) and its artifacts in S3, emulated by a moto server;
both are started and stopped here. The admin creates a user per team member; each
member's copy points MLFLOW_TRACKING_URI at the server with their own login (and no
storage credentials: the server uploads the artifacts). Then, as the README says:

- alice trains (version 1), bob trains (version 2) from the other copy;
- bob's `make compare` (`source: auto`) asks the registry for `champion`: none yet;
  `make promote` makes his version the champion, and compare now gates against it;
- alice trains a worse model (heavier regularisation): `make compare` blocks it,
  naming the regressions against the registry's champion;
- no `mlflow.db` appears in either copy, every run's artifacts are in the bucket, the
  experiment belongs to the user who created it (the login given is the one used),
  and a wrong password stops `compare` with a message naming the login variables.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from .combinations import DEFAULT
from .helpers import (
    Renders,
    answers_ok,
    free_port,
    git,
    listening,
    log_tail,
    make,
    project_env,
    set_latency_calls,
    wait_until,
)
from .system_tools import needs

pytestmark = [pytest.mark.slow, needs("postgresql")]
ADMIN_PASSWORD = "team-admin-password-1"  # the test's own, never a default of the project
DB_PASSWORD = "team-db-password-1"
BUCKET = "team-mlflow"
MEMBERS = {"alice": "alice-password-1", "bob": "bob-password-22"}
MODEL = "churn_prediction"


@contextmanager
def moto_s3(folder: Path) -> Iterator[str]:
    """A moto server standing in for S3, with the artifacts bucket."""
    port = free_port()
    moto = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "moto_server"
    with (folder / "moto.log").open("wb") as log:
        process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: answers_ok(f"{url}/moto-api/"), "moto", alive=lambda: process.poll() is None
        )
        s3(url).create_bucket(Bucket=BUCKET)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def s3(url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@contextmanager
def tracking_server(project: Path, s3_url: str) -> Iterator[str]:
    """`make tracking-server` in `project`, until it answers; stopped as Ctrl-C stops it."""
    # PostgreSQL runs as the postgres user, who must reach its folder: not under
    # pytest's private temporary folder.
    home = Path(tempfile.mkdtemp(prefix="mlops-team-tracking-"))
    home.chmod(0o755)
    port, db_port = free_port(), free_port()
    env = project_env(
        MLOPS_TRACKING_DIR=str(home / "tracking"),
        MLOPS_TRACKING_PORT=str(port),
        MLOPS_TRACKING_DB_PORT=str(db_port),
        MLOPS_TRACKING_WORKERS="1",
        MLOPS_TRACKING_ARTIFACTS=f"s3://{BUCKET}/artifacts",
        MLOPS_TRACKING_ADMIN_PASSWORD=ADMIN_PASSWORD,
        MLOPS_TRACKING_DB_PASSWORD=DB_PASSWORD,
        # The server's own storage credentials and endpoint (an instance role on AWS).
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        MLFLOW_S3_ENDPOINT_URL=s3_url,
    )
    log = home / "make.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "-C", str(project), "tracking-server"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as in a terminal
        )
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    try:
        wait_until(
            lambda: "tracking-server: MLflow at" in log.read_text(errors="replace"),
            "make tracking-server",
            alive=lambda: process.poll() is None,
            logs=lambda: log_tail(log)() + log_tail(home / "tracking" / "server.log")(),
            timeout=300,
            interval=0.5,
        )
        print(f"tracking server ready in {time.perf_counter() - started:.1f}s")
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output = log.read_text(errors="replace")
        postgres_left = listening(db_port)
        shutil.rmtree(home, ignore_errors=True)
        assert "tracking-server: stopped" in output, output[-3000:]
        assert not postgres_left, "PostgreSQL still listens after the server stopped"


def admin_post(url: str, path: str, body: dict[str, Any]) -> None:
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def admin_get(url: str, path: str) -> Any:
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    request = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def member_env(url: str, user: str, password: str | None = None) -> dict[str, str]:
    """A team member's environment: the server and their login, no storage credentials."""
    env = project_env(
        MLFLOW_TRACKING_URI=url,
        MLFLOW_TRACKING_USERNAME=user,
        MLFLOW_TRACKING_PASSWORD=password or MEMBERS[user],
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_S3_ENDPOINT_URL"):
        env.pop(name, None)
    return env


def set_up(renders: Renders, folder: Path) -> Path:
    project = renders.copy(DEFAULT, folder)
    set_latency_calls(project, 20)  # fewer timed calls: the verdicts are on quality
    git(project, "init", "-q", "-b", "main")
    make(project, "setup")
    return project


def trained_version(project: Path) -> str:
    metadata = json.loads((project / "models" / "current" / "metadata.json").read_text())
    return str(metadata["mlflow"]["version"])


def timed_train(project: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    make(project, "train", env=env)
    return time.perf_counter() - started


def test_two_members_share_runs_registry_and_champion(
    renders: Renders, tmp_path_factory: pytest.TempPathFactory
) -> None:
    alice = set_up(renders, tmp_path_factory.mktemp("alice"))
    with moto_s3(tmp_path_factory.mktemp("moto")) as s3_url, tracking_server(alice, s3_url) as url:
        bob = set_up(renders, tmp_path_factory.mktemp("bob"))
        for user, password in MEMBERS.items():
            admin_post(
                url, "/api/2.0/mlflow/users/create", {"username": user, "password": password}
            )

        seconds = [timed_train(alice, member_env(url, "alice"))]
        seconds.append(timed_train(bob, member_env(url, "bob")))
        assert (trained_version(alice), trained_version(bob)) == ("1", "2")

        first = make(bob, "compare", env=member_env(url, "bob"))
        assert f"baseline: registry {MODEL}@champion (no champion yet)" in first.stdout
        promoted = make(bob, "promote", env=member_env(url, "bob"))
        assert f"{MODEL}@champion -> version 2 ({url})" in promoted.stdout
        second = make(bob, "compare", env=member_env(url, "bob"))
        assert f"baseline: registry {MODEL}@champion (version 2)" in second.stdout
        assert "gate: PASSED" in second.stdout

        config = alice / "config" / "model.yaml"  # a worse model: far heavier regularisation
        config.write_text(config.read_text().replace("C: 1.0", "C: 0.0003"))
        seconds.append(timed_train(alice, member_env(url, "alice")))
        assert trained_version(alice) == "3"
        blocked = make(alice, "compare", env=member_env(url, "alice"), check=False)
        assert blocked.returncode != 0, blocked.stdout
        assert f"baseline: registry {MODEL}@champion (version 2)" in blocked.stdout
        assert "gate: FAILED" in blocked.stdout
        assert "regression: roc_auc fell from" in blocked.stdout

        wrong = make(
            alice, "compare", env=member_env(url, "alice", "not-her-password"), check=False
        )
        assert wrong.returncode != 0
        assert "MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD" in wrong.stderr + wrong.stdout

        experiment = admin_get(
            url, f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={MODEL}"
        )
        experiment_id = experiment["experiment"]["experiment_id"]
        permission = {
            user: admin_get(
                url,
                "/api/3.0/mlflow/users/permissions/get?resource_type=experiment"
                f"&resource_id={experiment_id}&username={user}",
            )["permission"]
            for user in MEMBERS
        }
        assert permission == {"alice": "MANAGE", "bob": "EDIT"}  # she created it, he may edit
        keys = [
            item["Key"]
            for page in s3(s3_url).get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for item in page.get("Contents", [])
        ]
        runs = {key.split("/")[2] for key in keys if "/metrics/metrics.json" in key}
        assert len(runs) == 3, keys[:20]  # every run's artifacts went to the bucket
        assert any(key.endswith("model.skops") for key in keys)
        for project in (alice, bob):
            assert not (project / "mlflow.db").exists()
            assert not (project / "mlartifacts").exists()
    print("make train against the team server: " + ", ".join(f"{s:.1f}s" for s in seconds))
