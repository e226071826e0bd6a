"""`validate`: check a data file against the data contract and the data rules."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..commands import Command
from ..layout import DATA_VALIDATION_HTML
from ..settings import Settings


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    from .service import validate_project_data  # pandas and GX: only when validating

    path: Path | None = args.path
    outcome = validate_project_data(settings, path)
    print(outcome.summary_line())
    print(f"report: {settings.reports_dir / DATA_VALIDATION_HTML} (JSON and Data Docs next to it)")
    return 0


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help="CSV or Parquet file (default: the configured data, MLOPS_DATA_PATH)",
    )


COMMANDS = (
    Command(
        "validate", "check a data file against the data contract", _validate, _validate_arguments
    ),
)
