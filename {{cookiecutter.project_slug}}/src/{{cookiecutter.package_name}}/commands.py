"""The shape of one CLI command, shared by every stage's `command.py`.

A stage lists its commands as `Command`s; `cli.py` only assembles the table.
Handlers import heavy libraries inside their body, so building the parser
(and `--help`) stays instant and the serving image never loads training code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from .settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]
Arguments = Callable[[argparse.ArgumentParser], None]


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """For commands that take no options."""


@dataclass(frozen=True)
class Command:
    """A sub-command: its name, one line of help, what runs, and its options."""

    name: str
    help: str
    run: Handler
    arguments: Arguments = no_arguments
