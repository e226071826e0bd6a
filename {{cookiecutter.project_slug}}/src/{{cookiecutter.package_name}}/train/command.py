"""CLI commands of the train stage: `train`, `evaluate`, `promote`, `tracking-server`."""

from __future__ import annotations

import argparse

from ..commands import Command
from ..settings import Settings


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_train  # pandas, scikit-learn, MLflow: only when training

    run_train(settings)
    return 0


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_evaluate

    run_evaluate(settings)
    return 0


def _promote(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_promote

    return run_promote(settings, args.version)


def _promote_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--version", default=None, help="registered version (default: that of models/current)"
    )


def _tracking_server(args: argparse.Namespace, settings: Settings) -> int:
    from .tracking_server import run_tracking_server  # processes, PostgreSQL, MLflow

    return run_tracking_server(settings)


COMMANDS = (
    Command("train", "validate, train, evaluate and register a model", _train),
    Command("evaluate", "score the trained model on the test split", _evaluate),
    Command(
        "promote", "make the released model the registry's champion", _promote, _promote_arguments
    ),
    Command(
        "tracking-server",
        "run the team's MLflow tracking server (PostgreSQL store, served artifacts, login)",
        _tracking_server,
    ),
)
