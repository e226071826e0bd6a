"""CLI commands of the monitoring stage: drift, simulate-drift, fetch-predictions, append-recent."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..commands import Command
from ..settings import Settings


def _drift(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_drift  # pandas, scipy, the model: only when checking

    return run_drift(settings, args.reference, args.current, args.labels)


def _drift_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reference",
        type=Path,
        help="training data, CSV or Parquet (default: the contract's data_file)",
    )
    parser.add_argument(
        "--current",
        type=Path,
        help="recent data: prediction log (.jsonl) or CSV/Parquet (default: the log at "
        "MLOPS_PREDICTION_LOG_DIR, else a resample of the training data)",
    )
    parser.add_argument(
        "--labels", type=Path, help="observed outcomes (id and target columns) to join on the id"
    )


def _simulate_drift(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_simulate

    return run_simulate(
        settings,
        args.kind,
        output=args.out,
        rows=args.rows,
        seed=args.seed,
        shifts=args.shift,
        segment=args.segment,
    )


def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["none", "data", "concept"], help="which drift to simulate")
    parser.add_argument(
        "--out", type=Path, help="CSV or Parquet to write (default: reports/simulated/KIND.csv)"
    )
    parser.add_argument(
        "--rows", type=int, help="rows to draw (default: simulation.rows in config/drift.yaml)"
    )
    parser.add_argument("--seed", type=int, help="random seed (default: simulation.seed)")
    parser.add_argument(
        "--shift",
        action="append",
        default=[],
        metavar="COLUMN=FACTOR",
        help="multiply a numeric column (repeatable; default: simulation.data_drift)",
    )
    parser.add_argument(
        "--segment",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="rows whose label is flipped (repeatable; default: simulation.concept_drift.segment)",
    )


def _fetch_predictions(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_fetch_predictions

    return run_fetch_predictions(settings, args.uri)


def _fetch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--uri",
        default=None,
        help="s3://bucket/prefix/ (its newest files), s3://bucket/key, https:// or a path "
        "(default: MLOPS_PREDICTION_LOG_URI)",
    )


def _summary(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_summary

    return run_summary(settings)


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """`summary` takes none."""


def _append_recent(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_append_recent

    return run_append_recent(settings)


COMMANDS = (
    Command("drift", "compare recent data with the training data", _drift, _drift_arguments),
    Command(
        "simulate-drift",
        "write a drifted resample of the training data",
        _simulate_drift,
        _simulate_arguments,
    ),
    Command(
        "fetch-predictions",
        "copy the service's prediction log here (for drift checks)",
        _fetch_predictions,
        _fetch_arguments,
    ),
    Command(
        "summary",
        "where the released service runs, the reports, the metrics, the drift verdict",
        _summary,
        _no_arguments,
    ),
    Command(
        "append-recent",
        "append the new labelled recent rows `drift` checked to the training data",
        _append_recent,
    ),
)
