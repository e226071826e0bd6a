"""`info` and `draft-contract`: the contract in use, and a first contract for new data."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..commands import Command
from ..settings import PACKAGE_NAME, Settings
from .model import load_contract, training_data_path

DRAFT_FILE = Path("config/data_contract.draft.yaml")


def _info(args: argparse.Namespace, settings: Settings) -> int:
    contract = load_contract(settings.contract_path)
    data = training_data_path(settings, contract)
    source = "MLOPS_DATA_PATH" if settings.data_path is not None else "data_file of the contract"
    print(f"{PACKAGE_NAME} {__version__}")
    print(f"project:        {settings.project_dir}")
    print(f"data:           {data} ({source})")
    print(f"contract:       {contract.name} v{contract.version} ({contract.fingerprint()})")
    print(f"  target:       {contract.target.column} (positive = {contract.target.positive!r})")
    print(f"  numeric:      {', '.join(contract.numeric)}")
    print(f"  categorical:  {', '.join(contract.categorical)}")
    print(f"mlflow:         {settings.mlflow_tracking_uri}")
    return 0


def _draft(args: argparse.Namespace, settings: Settings) -> int:
    import yaml

    from .datasets import read_as_text
    from .draft import DraftRequest, draft_contract

    data = settings.path(args.data)
    output = settings.path(args.output)
    request = DraftRequest(
        data_file=settings.relative(data),
        target=args.target,
        positive=args.positive,
        id_column=args.id_column,
    )
    draft = draft_contract(read_as_text(data), request)
    header = [
        f"# Drafted by `{PACKAGE_NAME} draft-contract` from {request.data_file.as_posix()}.",
        "# Review every line before it replaces config/data_contract.yaml: ranges are the",
        "# ones observed in this file (widen them to what is plausible), categories are",
        "# the values seen (add the ones that may come), and the notes below need a decision.",
        *(f"#   - {note}" for note in draft.notes),
    ]
    body = yaml.safe_dump(
        draft.contract, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(header) + "\n" + body, encoding="utf-8")
    numeric = len(draft.contract["numeric"])
    categorical = len(draft.contract["categorical"])
    print(f"drafted {settings.relative(output)}: {numeric} numeric, {categorical} categorical")
    for note in draft.notes:
        print(f"  note: {note}")
    contract = settings.relative(settings.contract_path)
    print(f"review it, then: mv {settings.relative(output)} {contract}")
    return 0


def _draft_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="the CSV or Parquet file to describe")
    parser.add_argument("--target", required=True, help="the label column the model predicts")
    parser.add_argument(
        "--positive", default=None, help="the target label the model scores (default: guessed)"
    )
    parser.add_argument(
        "--id", dest="id_column", default=None, help="the column identifying a row, if any"
    )
    parser.add_argument(
        "--output", type=Path, default=DRAFT_FILE, help=f"where to write it (default {DRAFT_FILE})"
    )


COMMANDS = (
    Command("info", "show the settings and the data contract in use", _info),
    Command(
        "draft-contract",
        "draft a data contract from a CSV/Parquet file (types, ranges, values) to review",
        _draft,
        _draft_arguments,
    ),
)
