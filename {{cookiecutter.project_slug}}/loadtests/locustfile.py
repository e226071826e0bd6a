"""Load test of the model service: realistic single and batch requests.

Run by `make loadtest` (and by the release before traffic moves). Payloads are
real rows of the training data, typed by the data contract, drawn from the
whole file: the prediction log of a load test looks like the training data, so
`make drift` on it finds no drift. Every non-2xx answer counts as a failure.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import gevent
from locust import FastHttpUser, between, events, task
from locust.env import Environment

from {{ cookiecutter.package_name }}.contract.model import (
    load_contract,
    training_data_path,
)
from {{ cookiecutter.package_name }}.serving.payloads import all_rows
from {{ cookiecutter.package_name }}.settings import Settings

# The project's settings, as every command reads them (MLOPS_* variables included).
SETTINGS = Settings(
    project_dir=Path(os.environ.get("MLOPS_PROJECT_DIR", Path(__file__).resolve().parents[1]))
)
CONTRACT = load_contract(SETTINGS.contract_path)
ROWS = all_rows(training_data_path(SETTINGS, CONTRACT), CONTRACT)
BATCH_SIZE = int(os.environ.get("MLOPS_LOADTEST_BATCH", "32"))
WAIT = float(os.environ.get("MLOPS_LOADTEST_WAIT", "0"))
# The run time, counted from when every user is running (set by `make loadtest`): locust's
# own --run-time also counts its start-up, which on a busy machine can eat a short run.
RUN_SECONDS = float(os.environ.get("LOADTEST_RUN_SECONDS", "0"))


@events.init.add_listener
def stop_after_the_run_time(environment: Environment, **_: object) -> None:
    def quit_later(**__: object) -> None:
        if environment.runner is not None:
            gevent.spawn_later(RUN_SECONDS, environment.runner.quit)

    if RUN_SECONDS > 0:
        events.spawning_complete.add_listener(quit_later)


class ModelUser(FastHttpUser):
    """Mostly single predictions, some batches, as a real client mix."""

    wait_time = between(0, WAIT)

    @task(9)
    def predict_one(self) -> None:
        self.client.post("/predict", json=random.choice(ROWS))

    @task(1)
    def predict_batch(self) -> None:
        start = random.randrange(0, len(ROWS) - BATCH_SIZE)
        self.client.post("/predict/batch", json={"rows": ROWS[start : start + BATCH_SIZE]})
