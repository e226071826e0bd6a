"""How config/deploy.yaml becomes an ECS deployment configuration: pure rules, no AWS call.

The traffic shape maps to an ECS strategy ([100] all at once, [p, 100] canary,
equal increments linear); anything else is refused when the config loads. Two
PAUSE lifecycle hooks hand control to the release command: after the test
traffic shift (validation on the test listener) and after the production shift
(the release's own evidence bake with probe traffic). ECS's own bake, with the
alarms armed, is never shorter than the alarms' evaluation window, so an alarm
can still fire before blue is retired.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..errors import DeployConfigError

VALIDATION_STAGE = "POST_TEST_TRAFFIC_SHIFT"
BAKE_STAGE = "POST_PRODUCTION_TRAFFIC_SHIFT"
# The stack's alarms, by suffix: the targets' 5xx, the load balancer's own 5xx
# (502/503/504 when green crashes or times out), p95 latency.
ALARM_SUFFIXES = ("5xx-target", "5xx-lb", "latency")


class StrategyError(DeployConfigError):
    """The traffic shape has no ECS equivalent."""


def step_minutes(seconds: float) -> int:
    """ECS counts canary and linear bakes in whole minutes (at least one)."""
    return max(1, math.ceil(seconds / 60))


def strategy_for(steps: Sequence[int], step_seconds: float) -> dict[str, Any]:
    """ECS strategy fields for the traffic steps; StrategyError for a shape ECS cannot run."""
    minutes = step_minutes(step_seconds)
    shape = list(steps)
    if shape == [100]:
        return {"strategy": "BLUE_GREEN"}
    if len(shape) == 2:
        return {
            "strategy": "CANARY",
            "canaryConfiguration": {
                "canaryPercent": float(shape[0]),
                "canaryBakeTimeInMinutes": minutes,
            },
        }
    first = shape[0]
    if shape == list(range(first, 101, first)) and first >= 3:
        return {
            "strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": float(first), "stepBakeTimeInMinutes": minutes},
        }
    raise StrategyError(
        f"traffic.steps {shape} have no ECS equivalent: use [100] (all at once), "
        "[p, 100] (canary) or equal increments of at least 3 such as [25, 50, 75, 100] (linear)"
    )


def alarm_names(prefix: str) -> list[str]:
    """The environment stack's alarms that roll a release back."""
    return [f"{prefix}-{suffix}" for suffix in ALARM_SUFFIXES]


def ecs_bake_minutes(bake_seconds: float, alarm_window_minutes: int) -> int:
    """ECS's bake: the configured bake, but never shorter than the alarms need (+1 for delay)."""
    return max(step_minutes(bake_seconds), alarm_window_minutes + 1)


def pause_hook(stage: str, timeout_minutes: int) -> dict[str, Any]:
    """A PAUSE hook at `stage` that rolls back when nobody answers in time."""
    return {
        "targetType": "PAUSE",
        "lifecycleStages": [stage],
        "timeoutConfiguration": {"timeoutInMinutes": timeout_minutes, "action": "ROLLBACK"},
    }


def deployment_configuration(
    steps: Sequence[int],
    step_seconds: float,
    bake_seconds: float,
    *,
    alarms: Sequence[str],
    alarm_window_minutes: int,
    hook_timeout_minutes: int,
) -> dict[str, Any]:
    """The deploymentConfiguration of one release: strategy, bake, both hooks, alarms."""
    return {
        **strategy_for(steps, step_seconds),
        "bakeTimeInMinutes": ecs_bake_minutes(bake_seconds, alarm_window_minutes),
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "alarms": {"alarmNames": list(alarms), "enable": bool(alarms), "rollback": True},
        "lifecycleHooks": [
            pause_hook(VALIDATION_STAGE, hook_timeout_minutes),
            pause_hook(BAKE_STAGE, hook_timeout_minutes),
        ],
    }


def longest_release_minutes(
    steps: Sequence[int],
    step_seconds: float,
    bake_seconds: float,
    *,
    alarm_window_minutes: int,
    hook_timeout_minutes: int,
) -> int:
    """Upper bound of one release: both hooks timing out, every step, ECS's bake, margins.

    Role sessions and job timeouts must cover it (a template test checks they do).
    """
    shift = (len(steps) - 1) * step_minutes(step_seconds)
    return (
        2 * hook_timeout_minutes
        + shift
        + ecs_bake_minutes(bake_seconds, alarm_window_minutes)
        + 15  # start green, registration, rollback
    )
