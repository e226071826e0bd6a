"""What every step needs: the contract, the model config and the typed data, plus progress lines."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..contract.datasets import DataLimits, fingerprint, read_raw, to_typed, training_memory
from ..contract.model import DataContract, load_contract, training_data_path
from ..errors import TrainingDataError
from ..settings import Settings
from .config import TrainingConfig, check_against_contract, load_training_config
from .tables import metrics_table, slices_table
from .training import Evaluation


@dataclass(frozen=True)
class Inputs:
    """The configuration and data a step works on."""

    contract: DataContract
    config: TrainingConfig
    data_path: Path
    frame: pd.DataFrame


def load_configs(settings: Settings) -> tuple[DataContract, TrainingConfig]:
    """The data contract and the model config, checked against each other."""
    contract = load_contract(settings.contract_path)
    config = load_training_config(settings.training_config_path)
    check_against_contract(config, contract, settings.training_config_path)
    return contract, config


def check_memory_budget(settings: Settings) -> str:
    """Refuse data that training could not hold in its memory budget; else say what it needs.

    Raises:
        TrainingDataError: the estimate is over the budget (nothing was read).
        DataFileError: the file is absent or over the size limit.
    """
    path = training_data_path(settings, load_contract(settings.contract_path))
    needed, basis = training_memory(path, DataLimits.from_settings(settings))
    budget, source = settings.train_memory_bytes
    mib = 1024 * 1024
    if needed > budget:
        raise TrainingDataError(
            f"training on {path} needs about {needed / mib:,.0f} MiB of memory ({basis}), "
            f"over the budget of {budget / mib:,.0f} MiB ({source}): train on a sample, "
            "or raise the budget on a machine that has the memory"
        )
    return (
        f"memory budget {budget / mib:,.0f} MiB ({source}); "
        f"this data needs about {needed / mib:,.0f} MiB ({basis})"
    )


def load_inputs(settings: Settings) -> Inputs:
    """Contract, config and the typed training data."""
    contract, config = load_configs(settings)
    data_path = training_data_path(settings, contract)
    frame = to_typed(read_raw(data_path, DataLimits.from_settings(settings)), contract)
    return Inputs(contract=contract, config=config, data_path=data_path, frame=frame)


def data_fingerprint(inputs: Inputs) -> str:
    """sha256 of the data file the inputs were read from."""
    return fingerprint(inputs.data_path)


def print_evaluation(evaluation: Evaluation) -> None:
    """The overall and per-slice metric tables of an evaluation."""
    print("\nTest-split metrics:")
    print(metrics_table(evaluation.metrics))
    print("\nPer slice:")
    print(slices_table(evaluation.slices))


class Progress:
    """Prints a line when a step starts and its duration when it ends, so long runs show life."""

    def __init__(self, command: str) -> None:
        """Start the clock for `command` (used as the line prefix)."""
        self.command = command
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Time one step; the duration is printed even if the step fails."""
        print(f"[{self.command}] {label} ...", flush=True)
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.timings[label] = elapsed
            print(f"[{self.command}] {label}: {elapsed:.2f} s", flush=True)

    def total(self) -> float:
        """Seconds since the command started."""
        return time.perf_counter() - self.started
