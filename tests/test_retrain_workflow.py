"""The retraining loop as shipped: retrain.yml's two jobs, step by step as written.

A rendered project (the default answers) is a git repository with an `origin` holding
`main`. Its service's prediction log is simulated: drifted recent customers (new ids)
with their observed outcomes, as JSON lines where MLOPS_PREDICTION_LOG_URI points.
tests/pr_workflow_runner.py then runs the `retrain` job (read-only: the project's own
code) and, from its artifact and outputs, the `pull-request` job in a fresh checkout,
with create-pull-request's local equivalent (commit, push to `origin`, POST /pulls to
a fake GitHub API on 127.0.0.1). Seen: drift found as the step's output; the labelled
recent rows appended to the training data once; a model trained on the grown data,
tested and gated; the pull request requested with the given token, carrying the data.
A prediction log that cannot be read crashes `make drift`: the job fails, nothing is
re-trained and no pull request is opened.
"""

from __future__ import annotations

import csv
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from .combinations import DEFAULT
from .fake_github import TOKEN, fake_github
from .helpers import Renders, git, make, run, uv_run
from .pr_workflow_runner import JobRun, Runner

# Times nothing that a starved process could miss (the gate's latency is the median of
# interleaved calls, timed again when over its limit): `make test` runs it beside the
# `alone` tests, at nice 19, in the cores they leave idle.
pytestmark = [pytest.mark.slow, pytest.mark.beside]
REPOSITORY = "acme/churn-prediction"
DATA = Path("data/raw/telco_customer_churn.csv")
NEW_ROWS = 1500
BRANCH = "retrain/drift"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, renders: Renders) -> Path:
    """The rendered project on `main`, pushed to a bare `origin`, set up."""
    folder = tmp_path_factory.mktemp("retrain")
    project = renders.copy(DEFAULT, folder)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "rendered")
    run(["git", "init", "-q", "--bare", "-b", "main", folder / "origin.git"])
    git(project, "remote", "add", "origin", str(folder / "origin.git"))
    git(project, "push", "-q", "origin", "main")
    git(project, "fetch", "-q", "origin")
    make(project, "setup")
    return project


def prediction_log(project: Path, target: Path) -> int:
    """Drifted recent customers with new ids and their outcomes, as the service logs them.

    `simulate-drift data` shifts a resample of the training rows; each keeps the outcome
    of the customer it was drawn from, and gets a new id (a customer not seen before).
    Total charges follow the shifted tenure and price, as config/data_rules.yaml requires
    (without that, `train` refuses the grown data, naming the rows).
    """
    uv_run(project, "churn_prediction", "simulate-drift", "data", "--out", "recent.csv", check=True)
    contract = yaml.safe_load((project / "config" / "data_contract.yaml").read_text())
    numeric = set(contract["numeric"])
    id_column, target_column = contract["id_column"], contract["target"]["column"]
    with (project / DATA).open(newline="") as handle:  # the outcome observed later, by id
        outcomes = {row[id_column]: row[target_column] for row in csv.DictReader(handle)}
    whole = {name for name, spec in contract["categorical"].items() if spec.get("dtype") == "int"}
    lines = []
    with (project / "recent.csv").open(newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            if number == NEW_ROWS:
                break
            features: dict[str, Any] = {}
            for name, value in row.items():
                if name in (id_column, target_column):
                    continue
                if name in numeric:
                    features[name] = float(value) if value.strip() else None
                else:
                    features[name] = int(value) if name in whole else value
            if features["TotalCharges"] is not None:  # billed at the shifted price so far
                features["TotalCharges"] = round(features["tenure"] * features["MonthlyCharges"], 2)
            record = {
                "ts": "2026-11-30T05:17:00Z",
                "model_version": "1",
                "features": features,
                "score": 0.5,
                "id": f"RECENT-{number:05d}",
                "outcome": outcomes[row[id_column]],
            }
            lines.append(json.dumps(record))
    (project / "recent.csv").unlink()
    target.write_text("\n".join(lines) + "\n")
    return len(lines)


def retrain_job(project: Path, tmp_path: Path, log_uri: Path) -> tuple[JobRun, Path]:
    artifacts = tmp_path / "artifacts"
    job = Runner(
        workspace=project,
        artifacts=artifacts,
        github_env={"GITHUB_REPOSITORY": REPOSITORY, "GITHUB_EVENT_NAME": "schedule"},
        values={
            "vars.MLFLOW_TRACKING_URI": "",
            "vars.AWS_PREDICTION_LOG_ROLE_ARN": "",
            "vars.MLOPS_PREDICTION_LOG_URI": str(log_uri),
            "secrets.MLFLOW_TRACKING_USERNAME": "",
            "secrets.MLFLOW_TRACKING_PASSWORD": "",
            "inputs.force": False,  # a scheduled run
        },
    ).run_job(project / ".github" / "workflows" / "retrain.yml", "retrain")
    return job, artifacts


def create_pull_request(checkout: Path, api: str, opened: list[dict[str, Any]]) -> Any:
    """peter-evans/create-pull-request's local equivalent: commit, push, POST /pulls."""

    def action(with_: dict[str, str]) -> bool:
        git(checkout, "checkout", "-q", "-B", with_["branch"])
        git(checkout, "add", *with_["add-paths"].split())
        git(checkout, "commit", "-qm", with_["commit-message"])
        git(checkout, "push", "-q", "--force", "origin", with_["branch"])
        body = {
            "title": with_["title"],
            "body": (checkout / with_["body-path"]).read_text(),
            "head": with_["branch"],
            "base": "main",
        }
        request = urllib.request.Request(
            f"{api}/repos/{REPOSITORY}/pulls",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {with_['token']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            opened.append(json.loads(response.read()))
            return bool(response.status == 201)

    return action


def test_only_the_pull_request_job_holds_a_write_token(project: Path) -> None:
    doc = yaml.safe_load((project / ".github" / "workflows" / "retrain.yml").read_text())
    retrain, pull_request = doc["jobs"]["retrain"], doc["jobs"]["pull-request"]
    assert retrain["permissions"] == {"contents": "read", "id-token": "write"}
    assert pull_request["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert not [step for step in pull_request["steps"] if "run" in step]  # no project code
    drift = next(step for step in retrain["steps"] if step.get("id") == "drift")
    assert "continue-on-error" not in drift  # a crash fails the job


def test_drifted_labelled_data_is_appended_retrained_and_proposed(
    project: Path, tmp_path: Path
) -> None:
    started = time.perf_counter()
    data_before = (project / DATA).read_text()
    rows_before = len(data_before.splitlines())
    log = tmp_path / "predictions.jsonl"
    recent = prediction_log(project, log)
    job, artifacts = retrain_job(project, tmp_path, log)
    output = "\n".join(job.output)
    assert not job.failed, output[-6000:]
    assert job.outputs == {"drift": "true"}, output[-3000:]
    assert (artifacts / "retrain" / "reports" / "drift.md").is_file()
    data_after = (project / DATA).read_text()
    assert data_after.startswith(data_before)  # appended, nothing rewritten
    assert len(data_after.splitlines()) == rows_before + recent
    metrics = json.loads((project / "metrics" / "metrics.json").read_text())
    rows = metrics["data"]["rows"]
    assert rows["train"] + rows["test"] == rows_before - 1 + recent, rows  # trained on it
    assert f"{recent:,} new labelled rows appended" in output
    for step in ("make train", "make model-test", "make compare"):
        assert f"$ {step} -> 0" in output

    checkout = tmp_path / "pull-request-checkout"  # the second job: a fresh checkout of main
    run(["git", "clone", "-q", "--branch", "main", project / ".." / "origin.git", checkout])
    opened: list[dict[str, Any]] = []
    with fake_github(REPOSITORY) as github:
        pull_job = Runner(
            workspace=checkout,
            artifacts=artifacts,
            github_env={"GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github.url},
            values={
                "needs.retrain.outputs.drift": job.outputs["drift"],
                "inputs.force": False,
                "secrets.RETRAIN_PR_TOKEN": TOKEN,  # the documented token: CI runs on the PR
                "github.token": "the-default-token-triggers-no-workflow",
            },
            actions={
                "peter-evans/create-pull-request@": create_pull_request(
                    checkout, github.url, opened
                )
            },
        ).run_job(checkout / ".github" / "workflows" / "retrain.yml", "pull-request")
        assert not pull_job.failed, pull_job.outcomes
        assert [pull["number"] for pull in github.pulls.values()] == [1]
    assert opened[0]["head"] == BRANCH
    assert opened[0]["title"].startswith("Re-train on the labelled recent data")
    assert "drift" in opened[0]["body"].lower()
    pushed = git(checkout, "show", f"origin/{BRANCH}:{DATA.as_posix()}")
    assert len(pushed.splitlines()) == rows_before + recent
    changed = git(checkout, "diff", "--name-only", "main", f"origin/{BRANCH}").split()
    assert set(changed) == {DATA.as_posix(), "metrics/metrics.json"}
    print(
        f"retrain job {job.seconds:.1f}s, pull-request job {pull_job.seconds:.1f}s, "
        f"whole flow {time.perf_counter() - started:.1f}s"
    )


def test_a_crash_of_the_drift_check_fails_the_job(project: Path, tmp_path: Path) -> None:
    log = tmp_path / "predictions.jsonl"
    log.write_text('{"ts": "2026-11-30T05:17:00Z", "features": "not an object"\n')
    data_before = (project / DATA).read_text()
    job, artifacts = retrain_job(project, tmp_path, log)
    output = "\n".join(job.output)
    assert job.outcomes["drift"] == "failure", output[-3000:]
    assert job.outputs == {"drift": ""}
    assert "not a prediction record" in output
    assert "$ make train" not in output
    assert (project / DATA).read_text() == data_before
    assert not (artifacts / "retrain").exists()
