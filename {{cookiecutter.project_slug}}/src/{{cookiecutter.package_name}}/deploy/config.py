"""The release policy: a typed view of `config/deploy.yaml`.

How traffic moves (all at once or canary steps), how long each step is watched,
what counts as unhealthy and where each platform lives are settings, not code,
so a team tunes its release without touching the lifecycle.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from ..config_files import FrozenModel as _Frozen
from ..config_files import load_yaml
from ..errors import DeployConfigError


class TrafficConfig(_Frozen):
    """Production traffic on green after each step, in percent; the last step must be 100."""

    steps: tuple[int, ...] = (25, 100)
    step_seconds: float = Field(default=10.0, ge=0)

    @field_validator("steps")
    @classmethod
    def _increasing_to_100(cls, steps: tuple[int, ...]) -> tuple[int, ...]:
        if not steps or steps[-1] != 100:
            raise ValueError("the last step must be 100 (all production traffic on green)")
        if any(not 0 < s <= 100 for s in steps) or list(steps) != sorted(set(steps)):
            raise ValueError("steps must be strictly increasing percentages between 1 and 100")
        return steps


class BakeConfig(_Frozen):
    """How long green is watched at 100 % and what makes it unhealthy."""

    seconds: float = Field(default=30.0, ge=0)
    poll_seconds: float = Field(default=1.0, gt=0)
    max_error_rate: float = Field(default=0.01, ge=0, le=1)
    max_p95_ms: float = Field(default=250.0, gt=0)
    # A canary step or the bake that green served fewer requests in (probes plus real
    # traffic) proves nothing: it is inconclusive, and inconclusive rolls back.
    min_requests: int = Field(default=20, ge=1)


class ProbeConfig(_Frozen):
    """Low-rate traffic the release itself sends through the production route while it watches.

    Real sample rows to /predict, so every canary step and the bake have evidence
    even when no user is calling; 0 sends none (then real traffic must suffice).
    """

    rate_per_second: float = Field(default=20.0, ge=0, le=200)
    timeout_seconds: float = Field(default=5.0, gt=0)


class ValidationConfig(_Frozen):
    """Checks on the test route before any production request reaches green."""

    ready_timeout_seconds: float = Field(default=60.0, gt=0)
    smoke_predictions: int = Field(default=5, ge=1)
    # Overrides of config/loadtest.yaml for the release's load gate; None skips it.
    load: dict[str, Any] | None = Field(default_factory=dict)


class LocalConfig(_Frozen):
    """The laptop platform: service processes behind nginx on 127.0.0.1."""

    production_port: int = Field(default=8080, ge=1, le=65535)
    test_port: int = Field(default=8081, ge=1, le=65535)
    drain_seconds: float = Field(default=2.0, ge=0)
    nginx: str = "nginx"
    workers: int = Field(default=1, ge=1)


# Longest suffix added to `<name>-<environment code>`: the target group `-green`.
LONGEST_SUFFIX = "-green"
AWS_NAME_LIMIT = 32  # load balancer and target group names


class AwsConfig(_Frozen):
    """The AWS platform: how infra/aws names each environment's resources, and the release's limits.

    Every resource of an environment is named `<name>-<code>[-<suffix>]` (the stacks
    and this file apply the same rule), e.g. `<slug>-prod-green`: load
    balancer and target group names are limited to 32 characters, so
    `<name>-<longest code>-green` must fit.
    """

    name: str = Field(default="mlops", pattern=r"^[a-z][a-z0-9-]*$")
    # GitHub environment -> short code in resource names.
    environments: dict[str, str] = Field(
        default_factory=lambda: {"staging": "stg", "production": "prod"}
    )
    region: str = "us-east-1"  # AWS_REGION (set by the workflow) wins
    container: str = "service"
    cpu: str = "512"
    memory: str = "1024"
    min_tasks: int = Field(default=1, ge=1)
    max_tasks: int = Field(default=4, ge=1)
    # The stack's alarms need this many minutes of datapoints: ECS's bake is never shorter.
    alarm_window_minutes: int = Field(default=2, ge=1)
    test_listener_port: int = 8443
    # Validation crosses the internet from the runner: its latency gate is calibrated for that.
    validation_max_p95_ms: float = Field(default=2000.0, gt=0)
    validation_min_requests: int = Field(default=100, ge=0)
    # The runner's ingress rule on the test listener expires after this long.
    ingress_minutes: int = Field(default=60, ge=5)
    hook_timeout_minutes: int = Field(default=30, ge=1)
    lock_wait_minutes: float = Field(default=30.0, ge=0)
    poll_seconds: float = Field(default=2.0, gt=0)
    timeout_minutes: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _names_fit(self) -> AwsConfig:
        for environment, code in self.environments.items():
            longest = f"{self.name}-{code}{LONGEST_SUFFIX}"
            if not re.fullmatch(r"[a-z0-9]+", code):
                raise ValueError(f"environment {environment!r}: code {code!r} must be [a-z0-9]+")
            if len(longest) > AWS_NAME_LIMIT:
                raise ValueError(
                    f"{longest!r} is {len(longest)} characters: AWS limits load balancer and "
                    f"target group names to {AWS_NAME_LIMIT}; shorten aws.name or the code"
                )
        if self.max_tasks < self.min_tasks:
            raise ValueError("max_tasks must be at least min_tasks")
        return self

    def prefix(self, environment: str) -> str:
        """`<name>-<code>`: cluster, service, load balancer and the start of every other name."""
        if environment not in self.environments:
            known = ", ".join(self.environments)
            raise DeployConfigError(f"unknown environment {environment!r}; known: {known}")
        return f"{self.name}-{self.environments[environment]}"


class DeployConfig(_Frozen):
    """Everything `deploy` reads from config/deploy.yaml."""

    traffic: TrafficConfig = TrafficConfig()
    bake: BakeConfig = BakeConfig()
    probe: ProbeConfig = ProbeConfig()
    validation: ValidationConfig = ValidationConfig()
    local: LocalConfig = LocalConfig()
    aws: AwsConfig = AwsConfig()


def platform_problems(config: DeployConfig, platform: str) -> list[str]:
    """What `platform` cannot do with this config (empty: it can release with it)."""
    if platform != "aws":
        return []
    from .strategy import StrategyError, strategy_for

    try:
        strategy_for(config.traffic.steps, config.traffic.step_seconds)
    except StrategyError as err:
        return [str(err)]
    return []


def load_deploy_config(path: Path, platform: str | None = None) -> DeployConfig:
    """Read and check config/deploy.yaml; every problem becomes one clear error.

    With `platform`, a traffic shape that platform cannot run is refused here,
    naming the platform, before anything is touched.
    """
    config = load_yaml(path, DeployConfig, "deploy config", DeployConfigError)
    if platform is not None and (problems := platform_problems(config, platform)):
        raise DeployConfigError(f"deploy config {path} on {platform}: " + "; ".join(problems))
    return config
