"""Time and size the candidate and the baseline model side by side, in this run.

A latency committed from a laptop and one measured on a CI runner differ by the
machines more than by the models, so the latency and size gates block only on
figures measured here, for both models, in one process: the same rows, calls
interleaved (`train/latency.py`). The baseline model comes from
`models/baseline/` (`make baseline`, or CI restoring the base branch's model), or
from the registry's `champion` when that is the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelNotFoundError
from ..layout import METADATA_FILE
from ..settings import Settings
from ..train import model_store, training
from ..train.inputs import load_inputs
from ..train.latency import measure_side_by_side, serialized_size
from .baseline import registry_model
from .config import LatencyGate
from .rules import MeasuredCosts, within_ratio


@dataclass(frozen=True)
class BaselineModel:
    """A fitted baseline pipeline and where it came from."""

    pipeline: Any
    label: str


def find_baseline_model(
    settings: Settings, explicit: Path | None, registry: bool
) -> tuple[BaselineModel | None, str]:
    """The baseline model to time, or None with the reason there is none.

    Args:
        settings: where models/baseline is and which registry to ask.
        explicit: a model folder given on the command line (must hold a model).
        registry: the baseline metrics came from the registry: time its champion too.

    Raises:
        ModelNotFoundError: `explicit` holds no model.
    """
    if explicit is not None:
        pipeline, metadata = model_store.load_model(explicit)
        return BaselineModel(pipeline, _label(explicit, metadata.model_version)), ""
    folder = settings.baseline_model
    if (folder / METADATA_FILE).is_file():
        try:
            pipeline, metadata = model_store.load_model(folder)
        except ModelNotFoundError as err:
            return None, str(err)
        label = _label(settings.relative(folder), metadata.model_version)
        return BaselineModel(pipeline, label), ""
    if registry:
        found = registry_model(settings.mlflow_tracking_uri, settings.registered_model_name)
        if found is not None:
            return BaselineModel(*found), ""
        return None, "the registry has no champion model to time"
    return None, f"no baseline model in {settings.relative(folder)}"


def measure_costs(
    settings: Settings, baseline: BaselineModel, latency: LatencyGate
) -> tuple[MeasuredCosts | None, str]:
    """Latency and size of models/current and `baseline`, or None with the reason.

    A candidate whose latency is over the limit is timed again, up to
    `latency.attempts` timings, and the closest timing counts: a model that is
    really slower is slower every time, while a neighbour's burst of work on a
    shared runner rarely lands on the same model three times.

    Raises:
        ModelNotFoundError: there is no candidate model (run `make train`).
    """
    candidate, _ = model_store.load_current(settings.models_dir)
    inputs = load_inputs(settings)
    split = training.split_frame(inputs.frame, inputs.contract, inputs.config)
    rows = training.feature_frame(inputs.frame.loc[split.test], inputs.contract)
    models = {"candidate": candidate, "baseline": baseline.pipeline}
    timings: list[dict[str, dict[str, float]]] = []
    try:
        while len(timings) < latency.attempts:
            timings.append(measure_side_by_side(models, rows, latency.calls))
            if _within_limit(timings[-1], latency):
                break
    except Exception as err:  # any failure of the old model only makes it advisory
        return None, f"the baseline model ({baseline.label}) cannot score this data: {err}"
    timed = min(timings, key=lambda t: _ratio(t, latency.stat))
    return (
        MeasuredCosts(
            candidate_latency_ms=timed["candidate"],
            baseline_latency_ms=timed["baseline"],
            candidate_size_bytes=serialized_size(candidate),
            baseline_size_bytes=serialized_size(baseline.pipeline),
            baseline_model=baseline.label,
            attempts=len(timings),
        ),
        "",
    )


def _ratio(timed: dict[str, dict[str, float]], stat: str) -> float:
    return timed["candidate"][stat] / max(timed["baseline"][stat], 1e-9)


def _within_limit(timed: dict[str, dict[str, float]], latency: LatencyGate) -> bool:
    return within_ratio(
        timed["baseline"][latency.stat],
        timed["candidate"][latency.stat],
        max_ratio=latency.max_ratio,
        floor=latency.min_delta_ms,
    )


def _label(folder: Path, version: str) -> str:
    return f"{folder} (model version {version})"
