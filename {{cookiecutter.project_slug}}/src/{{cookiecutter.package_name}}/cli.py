"""The project's single command line: one sub-command per pipeline step.

The Makefile and the CI workflows call these commands, so what CI runs can be
run by hand. Each stage defines its commands in its own `command.py`; this
module only assembles them in pipeline order and turns a `ProjectError` into
one clear line instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .commands import Command
from .contract import command as contract_command
from .deploy import command as deploy_command
from .errors import ProjectError
from .gate import command as gate_command
from .image import command as image_command
from .monitoring import command as monitoring_command
from .serving import command as serving_command
from .settings import PACKAGE_NAME, Settings
from .train import command as train_command
from .validation import command as validation_command

COMMANDS: tuple[Command, ...] = (
    *contract_command.COMMANDS,
    *validation_command.COMMANDS,
    *train_command.COMMANDS,
    *gate_command.COMMANDS,
    *serving_command.COMMANDS,
    *image_command.COMMANDS,
    *deploy_command.COMMANDS,
    *monitoring_command.COMMANDS,
)


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
    for command in COMMANDS:
        parsed = sub.add_parser(command.name, help=command.help, description=command.help)
        parsed.set_defaults(run=command.run)
        command.arguments(parsed)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; expected failures print one clear line instead of a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, Settings.load(args.project_dir)))
    except ProjectError as err:
        print(f"{PACKAGE_NAME} {args.command}: error: {err}", file=sys.stderr)
        return 1
