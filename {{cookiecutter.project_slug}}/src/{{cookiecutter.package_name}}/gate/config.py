"""The gate's rules as configured: a typed view of `config/gates.yaml`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..config_files import FrozenModel, load_yaml
from ..errors import GateConfigError
from ..train.metrics import METRIC_NAMES


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
    """Candidate latency / baseline latency must stay under `max_ratio`."""

    stat: str = "p95"
    max_ratio: float = 1.5
    min_delta_ms: float = 0.5


class SizeGate(FrozenModel):
    """Candidate size / baseline size must stay under `max_ratio`."""

    max_ratio: float = 2.0
    min_delta_bytes: int = 1024


class Reproducibility(FrozenModel):
    """How far re-trained metrics may be from the committed ones."""

    tolerance: float = 1e-6


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
