"""The `deploy` command: release, status, rollback and stop, on the local or the AWS platform.

Both platforms implement `lifecycle.Platform`, so one dispatch serves them:
the platform is built, then the action runs the same way on either.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..commands import Command
from ..contract.model import load_contract, training_data_path
from ..errors import DeployError
from ..layout import METADATA_FILE, ModelMetadata
from ..serving.payloads import sample_rows
from ..settings import Settings
from .config import DeployConfig, load_deploy_config
from .health import HealthLimits
from .lifecycle import Clock, Outcome, Platform, Policy, Release, SystemClock, run_release
from .traffic import ProbeTraffic
from .validation import http_validator

if TYPE_CHECKING:
    from .aws import AwsClients
    from .local import LocalPlatform


@dataclass(frozen=True)
class DeployRequest:
    """What the command line asked for."""

    action: str = "release"  # release | status | rollback | stop
    platform: str = "local"
    model_dir: Path | None = None
    image: str | None = None
    model_version: str | None = None
    git_revision: str | None = None
    environment: str = "staging"
    github_repository: str = ""
    vpc_id: str = ""
    subnet_ids: tuple[str, ...] = ()
    certificate_arn: str = ""
    fault: str = ""
    production_port: int | None = None
    test_port: int | None = None
    force: bool = False


def log(message: str) -> None:
    """Progress line in the style of the other commands."""
    print(f"[deploy] {message}", flush=True)


def policy_from(config: DeployConfig) -> Policy:
    """The lifecycle's knobs from config/deploy.yaml."""
    return Policy(
        steps=config.traffic.steps,
        step_seconds=config.traffic.step_seconds,
        bake_seconds=config.bake.seconds,
        poll_seconds=config.bake.poll_seconds,
        ready_timeout_seconds=config.validation.ready_timeout_seconds,
        settle_timeout_seconds=config.aws.timeout_minutes * 60,
        limits=HealthLimits(
            max_error_rate=config.bake.max_error_rate,
            max_p95_ms=config.bake.max_p95_ms,
            min_requests=config.bake.min_requests,
        ),
    )


def local_release(settings: Settings, request: DeployRequest) -> Release:
    """The model folder to release (default models/current) and the version it reports."""
    folder = request.model_dir or settings.current_model_dir
    if not (folder / METADATA_FILE).is_file():
        raise DeployError(f"no trained model in {folder}: run `make train` first")
    try:
        version = request.model_version or ModelMetadata.read(folder).model_version
    except ValueError as err:
        raise DeployError(f"{folder / METADATA_FILE} is unreadable: {err}") from err
    return Release(version=version, source=str(folder.resolve()), fault=request.fault)


def head_revision(settings: Settings) -> str:
    """The commit this checkout is at (GITHUB_SHA in a workflow), '' outside git."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def aws_release(settings: Settings, request: DeployRequest) -> Release:
    """The image to release on AWS and the identity (model version, commit) it must report."""
    if not request.image or not request.model_version:
        raise DeployError(
            "--platform aws needs --image <repository>@sha256:… and --model-version "
            "(make deploy-aws: IMAGE and MODEL_VERSION, the build job's outputs)"
        )
    revision = request.git_revision or head_revision(settings)
    return Release(version=request.model_version, source=request.image, revision=revision)


def print_outcome(outcome: Outcome) -> None:
    """Phase timings, then the verdict."""
    for phase, seconds in outcome.timings.items():
        log(f"  {phase:<24} {seconds:7.2f} s")
    if outcome.released:
        log(f"RELEASED {outcome.version}")
    else:
        log(f"ROLLED BACK {outcome.version}: {outcome.reason}")


def execute(
    settings: Settings,
    config: DeployConfig,
    platform: Platform,
    release: Release,
    *,
    policy: Policy,
    clock: Clock,
) -> Outcome:
    """Run the lifecycle with the HTTP validator and print how it went."""
    contract = load_contract(settings.contract_path)
    data = training_data_path(settings, contract)
    rows = sample_rows(data, contract, config.validation.smoke_predictions, seed=11)
    load = config.validation.load
    if platform.name == "aws" and load is not None:
        # Validation crosses the internet from the runner: a latency gate calibrated for it.
        load = {
            **load,
            "max_p95_ms": config.aws.validation_max_p95_ms,
            "min_requests": config.aws.validation_min_requests,
        }
    validate = http_validator(settings, rows, load)
    probe_rows = sample_rows(data, contract, 50, seed=23)
    probe = ProbeTraffic(
        platform.production_url,
        probe_rows,
        config.probe.rate_per_second,
        config.probe.timeout_seconds,
    )
    outcome = run_release(
        platform, release, policy=policy, validate=validate, clock=clock, log=log, probe=probe
    )
    print_outcome(outcome)
    return outcome


def local_platform(
    settings: Settings, config: DeployConfig, request: DeployRequest
) -> LocalPlatform:
    """The nginx + processes platform on this machine."""
    from .local import LocalPlatform

    return LocalPlatform(
        settings,
        config.local,
        log=log,
        production_port=request.production_port,
        test_port=request.test_port,
        ready_timeout=config.validation.ready_timeout_seconds,
    )


def run_platform(
    settings: Settings,
    config: DeployConfig,
    platform: Platform,
    request: DeployRequest,
    *,
    policy: Policy,
    clock: Clock,
) -> int:
    """Every action, the same way on every platform."""
    if request.action == "status":
        print(json.dumps(platform.status(), indent=2, default=str))
        return 0
    if request.action == "stop":
        with platform.locked():
            stopped = platform.stop_all()
        log(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        return 0
    requested = None
    if request.action != "rollback":  # a bad request is refused before anything is touched
        requested = (
            aws_release(settings, request)
            if platform.name == "aws"
            else local_release(settings, request)
        )
    with platform.locked():
        for note in platform.recover():
            log(f"recovered: {note}")
        if requested is None:
            release = platform.previous_release()
            log(f"rolling back to {release.version} through a full blue/green release")
        else:
            release = requested
            if platform.live_version() == release.identity and not request.force:
                log(f"{release.identity} is already live")
                return 0
        log(f"releasing {release.identity} on {platform.name}")
        outcome = execute(settings, config, platform, release, policy=policy, clock=clock)
    log(f"production serves {platform.live_version()}")
    return 0 if outcome.released else 1


def run_configured(
    settings: Settings,
    config: DeployConfig,
    request: DeployRequest,
    *,
    clients: AwsClients | None = None,
    clock: Clock | None = None,
) -> int:
    """Build the requested platform from `config` and run the action on it."""
    clock = clock or SystemClock()
    policy = policy_from(config)
    platform: Platform
    if request.platform == "aws":
        from .aws import AwsClients, AwsPlatform, Endpoints

        policy = replace(policy, poll_seconds=config.aws.poll_seconds)
        region = os.environ.get("AWS_REGION") or config.aws.region
        platform = AwsPlatform(
            config.aws,
            request.environment,
            clients or AwsClients.create(region),
            policy=policy,
            endpoints=Endpoints(
                test_url=settings.deploy_test_url,
                production_url=settings.deploy_production_url,
                runner_cidr=settings.deploy_runner_cidr,
            ),
            log=log,
            sleep=clock.sleep,
        )
    else:
        platform = local_platform(settings, config, request)
    return run_platform(settings, config, platform, request, policy=policy, clock=clock)


def run_bootstrap(settings: Settings, config: DeployConfig, request: DeployRequest) -> int:
    """`deploy bootstrap`: both stacks of one environment, then the GitHub variables."""
    import boto3

    from .bootstrap import (
        Bootstrap,
        BootstrapRequest,
        gh_ready,
        github_repository,
        print_variables,
        set_with_gh,
    )

    config.aws.prefix(request.environment)  # unknown environment: one clear error first
    region = os.environ.get("AWS_REGION") or config.aws.region
    repository = request.github_repository or github_repository(settings.project_dir)
    bootstrap = Bootstrap(
        boto3.session.Session(region_name=region), config.aws, settings.project_dir / "infra/aws"
    )
    variables = bootstrap.run(
        BootstrapRequest(
            environment=request.environment,
            github_repository=repository,
            vpc_id=request.vpc_id,
            subnet_ids=request.subnet_ids,
            certificate_arn=request.certificate_arn,
        ),
        repository,
        region,
    )
    print_variables(variables, repository, print)
    if not gh_ready():
        print("gh is not installed or not logged in: set the variables above by hand")
        return 0
    failed = set_with_gh(variables, repository)
    print(f"gh: set {len(variables) - len(failed)} of {len(variables)} variables", end="")
    print(f" (failed: {', '.join(failed)})" if failed else "")
    return 1 if failed else 0


def run_deploy(settings: Settings, request: DeployRequest) -> int:
    """Dispatch `deploy <action> --platform <name>` with config/deploy.yaml."""
    if request.action == "bootstrap":
        return run_bootstrap(settings, load_deploy_config(settings.deploy_config_path), request)
    config = load_deploy_config(settings.deploy_config_path, request.platform)
    return run_configured(settings, config, request)


def _deploy(args: argparse.Namespace, settings: Settings) -> int:
    return run_deploy(
        settings,
        DeployRequest(
            action=args.action,
            platform=args.platform,
            model_dir=args.model_dir,
            image=args.image,
            model_version=args.model_version,
            git_revision=args.git_revision,
            environment=args.environment,
            github_repository=args.github_repository,
            vpc_id=args.vpc_id,
            subnet_ids=tuple(s for s in args.subnet_ids.split(",") if s),
            certificate_arn=args.certificate_arn,
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
        choices=["release", "status", "rollback", "stop", "bootstrap"],
        default="release",
        help="release (default) a new version, show the status, roll back to the previous "
        "release, stop everything the local platform runs, or (aws) create the stacks of "
        "--environment and print the GitHub variables",
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
    parser.add_argument(
        "--image", default=None, help="aws: image to release, <repository>@sha256:… (by digest)"
    )
    parser.add_argument(
        "--git-revision",
        default=None,
        help="aws: the commit the image was built from (default: GITHUB_SHA or git HEAD)",
    )
    parser.add_argument(
        "--environment",
        default="staging",
        help="aws: the environment to release to (config aws.environments; default staging)",
    )
    parser.add_argument(
        "--fault",
        default="",
        help="local rehearsal: MLOPS_FAULT for green (crash, never-ready, error, slow:<ms>)",
    )
    parser.add_argument(
        "--github-repository", default="", help="bootstrap: owner/name (default: git origin)"
    )
    parser.add_argument("--vpc-id", default="", help="bootstrap: VPC (default: the default VPC)")
    parser.add_argument("--subnet-ids", default="", help="bootstrap: subnets, comma-separated")
    parser.add_argument("--certificate-arn", default="", help="bootstrap: ACM certificate (HTTPS)")
    parser.add_argument("--production-port", type=int, default=None, help="local: nginx port")
    parser.add_argument("--test-port", type=int, default=None, help="local: nginx test port")
    parser.add_argument(
        "--force", action="store_true", help="release even if the version is already live"
    )


COMMANDS = (
    Command("deploy", "blue/green release with automatic rollback", _deploy, _deploy_arguments),
)
