"""The project's single command line: one sub-command per pipeline step.

The Makefile and the CI workflows call these commands, so what CI runs can be
run by hand. Heavy libraries are imported inside each command, which keeps
`--help` instant and lets the serving image skip training dependencies.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .contract import ContractError, load_contract
from .core.gates import GateConfigError
from .deploy.config import DeployConfigError
from .deploy.lifecycle import DeployError
from .io.baseline import BaselineError
from .io.errors import DataFileError
from .jobs.serve import LoadTestError
from .serving.faults import FaultConfigError
from .settings import PACKAGE_NAME, Settings
from .training_config import TrainingConfigError
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


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.serve import run_serve

    return run_serve(args.host, args.port, args.workers)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8000, help="TCP port")
    parser.add_argument("--workers", type=int, default=1, help="processes (one per core)")


def _loadtest(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.serve import run_loadtest

    return run_loadtest(settings, args.url, args.duration)


def _loadtest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=None, help="service to load (default: start one on the current model)"
    )
    parser.add_argument("--duration", default=None, help="run time, e.g. 10s (default: config)")


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.common import USER_ERRORS
    from .jobs.train import run_train

    try:
        run_train(settings)
    except USER_ERRORS as err:
        raise PipelineError(str(err)) from err
    return 0


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.common import USER_ERRORS
    from .jobs.evaluate import run_evaluate

    try:
        run_evaluate(settings)
    except USER_ERRORS as err:
        raise PipelineError(str(err)) from err
    return 0


def _compare(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.gate import run_compare  # keeps --help instant

    return run_compare(settings, baseline_path=args.baseline, source=args.source)


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="metrics file to compare with (default: from config/gates.yaml)",
    )
    parser.add_argument(
        "--source",
        choices=["auto", "git", "registry"],
        default=None,
        help="where to find the baseline (default: baseline.source in config/gates.yaml)",
    )


def _reproduce_check(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.gate import run_reproduce_check

    return run_reproduce_check(settings, ref=args.ref)


def _reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ref", default="HEAD", help="git ref holding the committed metrics")


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.gate import run_report

    return run_report(settings)


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    from .validation.report import HTML_NAME
    from .validation.service import validate_project_data

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


def _promote(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.common import USER_ERRORS
    from .jobs.promote import run_promote

    try:
        return run_promote(settings, args.version)
    except USER_ERRORS as err:
        raise PipelineError(str(err)) from err


def _promote_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--version", default=None, help="registered version (default: that of models/current)"
    )


def _fetch_predictions(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.fetch import FetchError, run_fetch_predictions

    try:
        return run_fetch_predictions(settings, args.uri)
    except FetchError as err:
        raise PipelineError(str(err)) from err


def _fetch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--uri", default=None, help="s3://, https:// or a path (default: MLOPS_PREDICTION_LOG_URI)"
    )


def _deploy(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.deploy import DeployRequest, run_deploy

    return run_deploy(
        settings,
        DeployRequest(
            action=args.action,
            platform=args.platform,
            model_dir=args.model_dir,
            image_digest=args.image_digest,
            model_version=args.model_version,
            fault=args.fault,
            production_port=args.production_port,
            test_port=args.test_port,
            force=args.force,
        ),
    )


def _deploy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=["release", "status", "rollback", "stop"],
        default="release",
        help="release (default) a new version, show the status, roll back to the previous "
        "release, or stop everything the local platform runs",
    )
    parser.add_argument("--platform", choices=["local", "aws"], default="local")
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="local: model folder (default models/current)"
    )
    parser.add_argument(
        "--model-version",
        default=None,
        help="the version /version must report (default: from the model's metadata)",
    )
    parser.add_argument("--image-digest", default=None, help="aws: image to release (sha256:…)")
    parser.add_argument(
        "--fault",
        default="",
        help="local rehearsal: MLOPS_FAULT for green (crash, never-ready, error, slow:<ms>)",
    )
    parser.add_argument("--production-port", type=int, default=None, help="local: nginx port")
    parser.add_argument("--test-port", type=int, default=None, help="local: nginx test port")
    parser.add_argument(
        "--force", action="store_true", help="release even if the version is already live"
    )


def _image(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.image import ImageError, run_image_build, run_image_push, run_image_smoke

    try:
        if args.action == "build":
            run_image_build(settings, engine=args.engine, model_dir=args.model_dir)
            return 0
        if args.action == "push":
            return run_image_push(settings, args.repository, insecure=args.insecure_registry)
        return run_image_smoke(settings, engine=args.engine, image=args.image)
    except ImageError as err:
        raise PipelineError(str(err)) from err


def _image_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["build", "smoke", "push"],
        help="build: build and tag the image; smoke: run it and check the API; "
        "push: push it to --repository and print its digest",
    )
    parser.add_argument(
        "--repository",
        default=os.environ.get("IMAGE_REPOSITORY", ""),
        help="push: registry/repository (default: IMAGE_REPOSITORY)",
    )
    parser.add_argument(
        "--insecure-registry",
        action="store_true",
        default=os.environ.get("IMAGE_REGISTRY_INSECURE") == "1",
        help="push: plain HTTP / unverified TLS, a local test registry only "
        "(default: IMAGE_REGISTRY_INSECURE=1)",
    )
    parser.add_argument(
        "--engine",
        choices=["auto", "docker", "podman"],
        default="auto",
        help="container engine (default: docker if its engine answers, else podman)",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="build: model folder to bake in, inside the project (default: models/current)",
    )
    parser.add_argument(
        "--image", default=None, help="smoke: image to run (default: the last one built)"
    )


def _drift(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs.drift import run_drift
    from .monitoring.errors import DriftError

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
    from .jobs.drift import run_simulate
    from .monitoring.errors import DriftError

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
    ("validate", "check a data file against the data contract", _validate, _validate_arguments),
    ("train", "validate, train, evaluate and register a model", _train, None),
    ("evaluate", "score the trained model on the test split", _evaluate, None),
    ("compare", "apply the quality gates against the baseline", _compare, _compare_arguments),
    (
        "reproduce-check",
        "check that re-training reproduces the committed metrics",
        _reproduce_check,
        _reproduce_arguments,
    ),
    ("report", "write the Markdown metric report (reports/report.md)", _report, None),
    ("promote", "make the released model the registry's champion", _promote, _promote_arguments),
    (
        "fetch-predictions",
        "copy the service's prediction log here (for drift checks)",
        _fetch_predictions,
        _fetch_arguments,
    ),
    (
        "serve",
        "serve the trained model over HTTP (FastAPI + ONNX Runtime)",
        _serve,
        _serve_arguments,
    ),
    (
        "loadtest",
        "load-test a service and apply the latency/failure gate",
        _loadtest,
        _loadtest_arguments,
    ),
    ("drift", "compare recent data with the training data", _drift, _drift_arguments),
    (
        "simulate-drift",
        "write a drifted resample of the training data",
        _simulate_drift,
        _simulate_arguments,
    ),
    ("deploy", "blue/green release with automatic rollback", _deploy, _deploy_arguments),
    (
        "image",
        "build the serving image, or smoke-test it in a container",
        _image,
        _image_arguments,
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
    except (
        ContractError,
        PipelineError,
        TrainingConfigError,
        GateConfigError,
        BaselineError,
        FaultConfigError,
        LoadTestError,
        DataFileError,
        DataValidationError,
        DeployConfigError,
        DeployError,
    ) as err:
        print(f"{PACKAGE_NAME} {args.command}: error: {err}", file=sys.stderr)
        return 1
