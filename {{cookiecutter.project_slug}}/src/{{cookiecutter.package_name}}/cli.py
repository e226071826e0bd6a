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
from .io.errors import DataFileError
from .settings import PACKAGE_NAME, Settings
from .validation import DataValidationError

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


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    from .validation.report import HTML_NAME  # noqa: PLC0415
    from .validation.service import validate_project_data  # noqa: PLC0415 (pandas, GX)

    path: Path | None = args.path
    outcome = validate_project_data(settings, path)
    print(outcome.summary_line())
    print(f"report: {settings.reports_dir / HTML_NAME} (JSON and Data Docs next to it)")
    return 0


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help="CSV or Parquet file (default: the configured data, MLOPS_DATA_PATH)",
    )


def _not_implemented(name: str) -> Handler:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        print(f"{PACKAGE_NAME} {name}: not implemented yet", file=sys.stderr)
        return 2

    return handler


# (name, help, handler, add_arguments)
COMMANDS: list[tuple[str, str, Handler, Callable[[argparse.ArgumentParser], None] | None]] = [
    ("info", "show the settings and the data contract in use", _info, None),
    ("validate", "check a data file against the data contract", _validate, _validate_arguments),
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
    ("drift", "compare recent data with the training data", _not_implemented("drift"), None),
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
    except (ContractError, DataFileError, DataValidationError, PipelineError) as err:
        print(f"{PACKAGE_NAME} {args.command}: error: {err}", file=sys.stderr)
        return 1
