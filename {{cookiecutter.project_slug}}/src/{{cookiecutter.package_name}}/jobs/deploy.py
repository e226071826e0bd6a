"""The `deploy` command: release, status, rollback and stop, on the local or the AWS platform."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..contract import load_contract
from ..core.versions import model_version
from ..deploy.config import DeployConfig, load_deploy_config
from ..deploy.health import HealthLimits
from ..deploy.lifecycle import (
    Clock,
    DeployError,
    Outcome,
    Platform,
    Policy,
    Release,
    SystemClock,
    run_release,
)
from ..deploy.validation import http_validator
from ..io.model_store import current_dir
from ..serving.payloads import sample_rows
from ..settings import Settings

if TYPE_CHECKING:
    from ..deploy.aws import AwsClients


@dataclass(frozen=True)
class DeployRequest:
    """What the command line asked for."""

    action: str = "release"  # release | status | rollback | stop
    platform: str = "local"
    model_dir: Path | None = None
    image_digest: str | None = None
    model_version: str | None = None
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
    folder = request.model_dir or current_dir(settings.path(settings.models_dir))
    metadata_path = folder / "metadata.json"
    if not metadata_path.is_file():
        raise DeployError(f"no trained model in {folder}: run `make train` first")
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    version = request.model_version or model_version(metadata)
    return Release(version=version, source=str(folder.resolve()), fault=request.fault)


def print_outcome(outcome: Outcome) -> None:
    """Phase timings, then the verdict."""
    for phase, seconds in outcome.timings.items():
        log(f"  {phase:<24} {seconds:7.2f} s")
    if outcome.released:
        log(f"RELEASED {outcome.version}")
    else:
        log(f"ROLLED BACK {outcome.version}: {outcome.reason}")


def run_local(settings: Settings, config: DeployConfig, request: DeployRequest) -> int:
    """Every action on the local platform, under the platform's lock."""
    from ..deploy.local import LocalPlatform

    platform = LocalPlatform(
        settings,
        config.local,
        log=log,
        production_port=request.production_port,
        test_port=request.test_port,
        ready_timeout=config.validation.ready_timeout_seconds,
    )
    if request.action == "status":
        print(json.dumps(platform.status(), indent=2))
        return 0
    with platform.locked():
        if request.action == "stop":
            stopped = platform.stop_all()
            log(f"stopped: {', '.join(stopped) or 'nothing was running'}")
            return 0
        for note in platform.recover():
            log(f"recovered: {note}")
        if request.action == "rollback":
            release = platform.previous_release()
            log(f"rolling back to {release.version} through a full blue/green release")
        else:
            release = local_release(settings, request)
            if platform.live_version() == release.version and not request.force:
                log(f"{release.version} is already live on {platform.production_url}")
                return 0
        log(f"releasing {release.version} on {platform.production_url}, test: {platform.test_url}")
        outcome = execute(settings, config, platform, release)
    log(f"production: {platform.production_url} serves {platform.live_version()}")
    return 0 if outcome.released else 1


def execute(
    settings: Settings,
    config: DeployConfig,
    platform: Platform,
    release: Release,
    *,
    policy: Policy | None = None,
    clock: Clock | None = None,
) -> Outcome:
    """Run the lifecycle with the HTTP validator and print how it went."""
    contract = load_contract(settings.path(settings.contract_path))
    rows = sample_rows(
        settings.path(settings.data_path), contract, config.validation.smoke_predictions, seed=11
    )
    validate = http_validator(settings, rows, config.validation.load)
    outcome = run_release(
        platform,
        release,
        policy=policy or policy_from(config),
        validate=validate,
        clock=clock or SystemClock(),
        log=log,
    )
    print_outcome(outcome)
    return outcome


def run_aws(
    settings: Settings,
    config: DeployConfig,
    request: DeployRequest,
    clients: AwsClients | None = None,
    clock: Clock | None = None,
) -> int:
    """Every action on the AWS platform (ECS native blue/green)."""
    from ..deploy.aws import AwsClients, AwsPlatform

    policy = replace(policy_from(config), poll_seconds=config.aws.poll_seconds)
    clock = clock or SystemClock()
    platform = AwsPlatform(
        settings,
        config.aws,
        clients or AwsClients.create(config.aws.region),
        policy=policy,
        log=log,
        sleep=clock.sleep,
    )
    if request.action == "status":
        print(json.dumps(platform.status(), indent=2, default=str))
        return 0
    if request.action == "stop":
        raise DeployError("`deploy stop` is local only: delete the CloudFormation stack instead")
    for note in platform.recover():
        log(f"recovered: {note}")
    if request.action == "rollback":
        release = platform.previous_release()
        log(f"rolling back to {release.version} through a full blue/green release")
    else:
        if not request.image_digest or not request.model_version:
            raise DeployError("--platform aws needs --image-digest sha256:… and --model-version")
        release = Release(version=request.model_version, source=request.image_digest)
    outcome = execute(settings, config, platform, release, policy=policy, clock=clock)
    return 0 if outcome.released else 1


def run_deploy(settings: Settings, request: DeployRequest) -> int:
    """Dispatch `deploy <action> --platform <name>`."""
    config = load_deploy_config(settings.path(settings.deploy_config_path))
    if request.platform == "aws":
        return run_aws(settings, config, request)
    return run_local(settings, config, request)
