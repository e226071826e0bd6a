"""The release policy: a typed view of `config/deploy.yaml`.

How traffic moves (all at once or canary steps), how long each step is watched,
what counts as unhealthy and where each platform lives are settings, not code,
so a team tunes its release without touching the lifecycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from ..config_files import FrozenModel as _Frozen
from ..config_files import load_yaml
from ..errors import DeployConfigError


class TrafficConfig(_Frozen):
    """Production traffic on green after each step, in percent; the last step must be 100."""

    steps: tuple[int, ...] = (10, 50, 100)
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
    min_requests: int = Field(default=20, ge=1)


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


class AwsConfig(_Frozen):
    """Names of the resources infra/aws/ creates (its parameters' defaults)."""

    region: str = "us-east-1"
    cluster: str = "mlops"
    service: str = "mlops"
    container: str = "service"
    repository: str = "mlops"
    load_balancer: str = "mlops"
    test_listener_port: int = 8443
    alarms: tuple[str, ...] = ()
    hook_timeout_minutes: int = Field(default=30, ge=1)
    poll_seconds: float = Field(default=10.0, gt=0)
    timeout_minutes: float = Field(default=60.0, gt=0)
    # Where validation sends test traffic; default: the load balancer's test listener.
    test_url: str | None = None


class DeployConfig(_Frozen):
    """Everything `deploy` reads from config/deploy.yaml."""

    traffic: TrafficConfig = TrafficConfig()
    bake: BakeConfig = BakeConfig()
    validation: ValidationConfig = ValidationConfig()
    local: LocalConfig = LocalConfig()
    aws: AwsConfig = AwsConfig()


def load_deploy_config(path: Path) -> DeployConfig:
    """Read and check config/deploy.yaml; every problem becomes one clear error."""
    return load_yaml(path, DeployConfig, "deploy config", DeployConfigError)
