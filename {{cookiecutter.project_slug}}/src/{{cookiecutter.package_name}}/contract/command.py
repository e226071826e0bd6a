"""`info`: what the project is set up with (settings and the data contract)."""

from __future__ import annotations

import argparse

from .. import __version__
from ..commands import Command
from ..settings import PACKAGE_NAME, Settings
from .model import load_contract


def _info(args: argparse.Namespace, settings: Settings) -> int:
    contract = load_contract(settings.contract_path)
    print(f"{PACKAGE_NAME} {__version__}")
    print(f"project:        {settings.project_dir}")
    print(f"data:           {settings.data_path}")
    print(f"contract:       {contract.name} v{contract.version} ({contract.fingerprint()})")
    print(f"  target:       {contract.target.column} (positive = {contract.target.positive!r})")
    print(f"  numeric:      {', '.join(contract.numeric)}")
    print(f"  categorical:  {', '.join(contract.categorical)}")
    print(f"mlflow:         {settings.mlflow_tracking_uri}")
    return 0


COMMANDS = (Command("info", "show the settings and the data contract in use", _info),)
