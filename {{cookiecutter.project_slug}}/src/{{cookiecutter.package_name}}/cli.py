"""The project's single command line: one sub-command per pipeline step.

The Makefile and the CI workflows call these commands, so what CI runs can be
run by hand. Heavy libraries are imported inside each command, which keeps
`--help` instant and lets the serving image skip training dependencies.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .contract import ContractError, load_contract
from .settings import PACKAGE_NAME, Settings

Handler = Callable[[argparse.Namespace, Settings], int]


class PipelineError(RuntimeError):
    """A step failed for a reason the user can fix; shown without a traceback."""


def _info(args: argparse.Namespace, settings: Settings) -> int:
    contract = load_contract(settings.path(settings.contract_path))
    print(f"{PACKAGE_NAME} {__version__}")
    print(f"project:        {settings.project_dir}")
    print(f"data:           {settings.path(settings.data_path)}")
    print(f"contract:       {contract.name} v{contract.version} ({contract.fingerprint()})")
    print(f"  target:       {contract.target.column} (positive = {contract.target.positive!r})")
    print(f"  numeric:      {', '.join(contract.numeric)}")
    print(f"  categorical:  {', '.join(contract.categorical)}")
    print(f"mlflow:         {settings.mlflow_tracking_uri}")
    return 0


def _not_implemented(name: str) -> Handler:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        print(f"{PACKAGE_NAME} {name}: not implemented yet", file=sys.stderr)
        return 2

    return handler


def _drift(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.drift import run_drift  # noqa: PLC0415  (keeps --help instant)
    from .monitoring.errors import DriftError  # noqa: PLC0415

    try:
        return run_drift(settings, args.reference, args.current, args.labels)
    except DriftError as err:
        raise PipelineError(str(err)) from err


def _drift_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reference", type=Path, help="training data, CSV or Parquet (default: MLOPS_DATA_PATH)"
    )
    parser.add_argument(
        "--current",
        type=Path,
        help="recent data: prediction log (.jsonl) or CSV/Parquet (default: the log at "
        "MLOPS_PREDICTION_LOG_PATH, else a resample of the training data)",
    )
    parser.add_argument(
        "--labels", type=Path, help="observed outcomes (id and target columns) to join on the id"
    )


def _simulate_drift(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.drift import run_simulate  # noqa: PLC0415
    from .monitoring.errors import DriftError  # noqa: PLC0415

    try:
        return run_simulate(
            settings,
            args.kind,
            output=args.out,
            rows=args.rows,
            seed=args.seed,
            shifts=args.shift,
            segment=args.segment,
        )
    except DriftError as err:
        raise PipelineError(str(err)) from err


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


# (name, help, handler, add_arguments)
COMMANDS: list[tuple[str, str, Handler, Callable[[argparse.ArgumentParser], None] | None]] = [
    ("info", "show the settings and the data contract in use", _info, None),
    ("validate", "check a data file against the data contract", _not_implemented("validate"), None),
    ("train", "validate, train, evaluate and register a model", _not_implemented("train"), None),
    ("evaluate", "score the trained model on the test split", _not_implemented("evaluate"), None),
    (
        "compare",
        "compare the candidate with the baseline (gates)",
        _not_implemented("compare"),
        None,
    ),
    ("report", "write the Markdown metric report", _not_implemented("report"), None),
    ("serve", "serve the trained model over HTTP", _not_implemented("serve"), None),
    ("deploy", "blue/green deployment with rollback", _not_implemented("deploy"), None),
    ("drift", "compare recent data with the training data", _drift, _drift_arguments),
    (
        "simulate-drift",
        "write a drifted resample of the training data",
        _simulate_drift,
        _simulate_arguments,
    ),
]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; exposed for tests and documentation."""
    parser = argparse.ArgumentParser(
        prog=PACKAGE_NAME,
        description="The ML pipeline, one step per command (see the Makefile for the order).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--project-dir", type=Path, default=None, help="project folder (default: current folder)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text, handler, add_arguments in COMMANDS:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        if add_arguments is not None:
            add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; expected failures print one clear line instead of a traceback."""
    args = build_parser().parse_args(argv)
    settings = Settings() if args.project_dir is None else Settings(project_dir=args.project_dir)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except (ContractError, PipelineError) as err:
        print(f"{PACKAGE_NAME} {args.command}: error: {err}", file=sys.stderr)
        return 1
