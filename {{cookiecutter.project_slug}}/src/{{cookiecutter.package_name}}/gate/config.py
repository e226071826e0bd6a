"""The gate's rules as configured: a typed view of `config/gates.yaml`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..config_files import FrozenModel, load_yaml
from ..errors import GateConfigError
from ..train.metrics import METRIC_NAMES
from ..train.metrics_file import DIGITS


def _known_metrics(names: dict[str, float]) -> dict[str, float]:
    unknown = sorted(set(names) - set(METRIC_NAMES))
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {list(METRIC_NAMES)}")
    return names


class BaselineSource(FrozenModel):
    """Where the baseline comes from; see config/gates.yaml."""

    source: Literal["auto", "git", "registry"] = "auto"
    git_ref: str = "origin/main"
    metrics_path: Path = Path("metrics/metrics.json")


class SliceGate(FrozenModel):
    """No slice may lose more than `max_drop` of `metric` against the baseline."""

    metric: str = "roc_auc"
    max_drop: float = 0.05
    min_rows: int = 50

    @field_validator("metric")
    @classmethod
    def _known(cls, name: str) -> str:
        _known_metrics({name: 0.0})
        return name


class LatencyGate(FrozenModel):
    """Candidate latency / baseline latency must stay under `max_ratio`.

    Blocking only when both models were timed in the same run (see gate/costs.py);
    committed figures come from different machines, so they are only reported.
    """

    stat: Literal["p50", "p95"] = "p50"
    max_ratio: float = 1.5
    min_delta_ms: float = 0.5
    # single-row predictions per model when both are timed side by side
    calls: int = Field(default=200, ge=20)
    # a candidate over the limit is timed again, up to this many timings in all; the
    # closest one counts: a slower model is slower every time, a busy machine is not
    attempts: int = Field(default=3, ge=1, le=10)


class SizeGate(FrozenModel):
    """Candidate size / baseline size must stay under `max_ratio` (same rule as latency)."""

    max_ratio: float = 2.0
    min_delta_bytes: int = 1024


ROUNDING_STEP = 10.0**-DIGITS  # metrics/metrics.json keeps DIGITS decimals


class Reproducibility(FrozenModel):
    """How far re-trained metrics may be from the committed ones.

    Both sides are rounded to `DIGITS` decimals, so two machines whose results differ
    in the last bits can land one rounding step apart: the tolerance must be above it.
    """

    tolerance: float = 1e-5

    @field_validator("tolerance")
    @classmethod
    def _above_rounding(cls, tolerance: float) -> float:
        if tolerance < 2 * ROUNDING_STEP:
            raise ValueError(
                f"{tolerance:g} is not above the rounding step of metrics/metrics.json "
                f"({ROUNDING_STEP:g}): use at least {2 * ROUNDING_STEP:g} (default 1e-05)"
            )
        return tolerance


class GateConfig(FrozenModel):
    """The whole of config/gates.yaml.

    `floors` are the project's one set of absolute quality bars: the gate applies
    them to every candidate and `make model-test` checks the saved model against
    them (for lower-is-better metrics such as log_loss they are ceilings).
    """

    baseline: BaselineSource = BaselineSource()
    floors: dict[str, float] = Field(default_factory=dict)
    max_regression: dict[str, float] = Field(default_factory=dict)
    tolerance: float = 0.001
    slices: SliceGate = SliceGate()
    latency: LatencyGate = LatencyGate()
    model_size: SizeGate = SizeGate()
    reproducibility: Reproducibility = Reproducibility()

    @field_validator("floors", "max_regression")
    @classmethod
    def _metric_names(cls, names: dict[str, float]) -> dict[str, float]:
        return _known_metrics(names)


def load_gate_config(path: Path) -> GateConfig:
    """Read config/gates.yaml with one readable error for any problem."""
    return load_yaml(path, GateConfig, "gate configuration", GateConfigError)
