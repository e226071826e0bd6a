"""Drift thresholds and simulation settings: a typed view of `config/drift.yaml`.

Which test runs on which column comes from the data contract; how strict the
tests are, and what the simulation changes, comes from this file, so tuning
never needs a code change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ..config_files import FrozenModel as _Frozen
from ..config_files import contract_mismatch, load_yaml
from ..contract.model import DataContract
from ..errors import DriftConfigError
from .concept import LIVE_METRICS


class PsiLevels(_Frozen):
    """Population Stability Index: bins for numeric columns and the two alarm levels.

    Common practice reads PSI < 0.1 as stable, 0.1-0.25 as a moderate shift and
    > 0.25 as a major shift.
    """

    bins: int = Field(default=10, ge=2, le=100)
    warn: float = Field(default=0.1, gt=0)
    alert: float = Field(default=0.25, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> PsiLevels:
        if self.warn > self.alert:
            raise ValueError(f"warn ({self.warn}) must not exceed alert ({self.alert})")
        return self


class MissingRule(_Frozen):
    """A change of the missing-value rate counts once significant and at least this large."""

    min_change: float = Field(default=0.02, ge=0, le=1)


class ConceptRule(_Frozen):
    """Live metrics from labelled recent data against the training metrics."""

    min_labelled_rows: int = Field(default=200, ge=1)
    max_drop: dict[str, float] = Field(
        default_factory=lambda: {"roc_auc": 0.05, "recall": 0.10, "precision": 0.10}
    )

    @model_validator(mode="after")
    def _known_metrics(self) -> ConceptRule:
        unknown = sorted(set(self.max_drop) - set(LIVE_METRICS))
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; known: {sorted(LIVE_METRICS)}")
        return self


class FallbackSample(_Frozen):
    """What `drift` checks when there is no prediction log yet: a resample of the training data."""

    rows: int = Field(default=2000, ge=1)
    seed: int = 0


class ValueRange(_Frozen):
    """Numbers from `min` to `max` (both included; one may be left out).

    Continuous numeric data rarely repeats a value exactly, so a segment of such data
    (all-numeric data sets have no other) names a range: `worst radius: {min: 20}`.
    """

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> ValueRange:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self

    def __str__(self) -> str:
        low = "" if self.min is None else f"{self.min:g}"
        high = "" if self.max is None else f"{self.max:g}"
        return f"{low}..{high}"


SegmentValue = str | int | ValueRange


class ConceptDriftSimulation(_Frozen):
    """Flip the label of every row matching all of `segment` (column: value, or numeric range)."""

    segment: dict[str, SegmentValue] = Field(min_length=1)


class Simulation(_Frozen):
    """How `simulate-drift` derives drifted data from the sample."""

    rows: int = Field(default=2000, ge=1)
    seed: int = 7
    data_drift: dict[str, float] = Field(default_factory=dict)
    concept_drift: ConceptDriftSimulation | None = None


class DriftConfig(_Frozen):
    """Everything `drift` needs besides the data and the contract."""

    alpha: float = Field(default=0.05, gt=0, lt=1)
    correction: Literal["holm", "bonferroni", "none"] = "holm"
    psi: PsiLevels = PsiLevels()
    missing: MissingRule = MissingRule()
    min_rows: int = Field(default=200, ge=1)
    exclude: tuple[str, ...] = ()
    score: bool = True
    label: bool = True
    concept: ConceptRule = ConceptRule()
    fallback: FallbackSample = FallbackSample()
    simulation: Simulation = Simulation()

    def check_against(self, contract: DataContract, path: Path = Path("config/drift.yaml")) -> None:
        """Every column named here must exist in the contract, with a matching role.

        Raises:
            DriftConfigError: naming the file, and each key and column that does not match.
        """
        features = set(contract.feature_columns)
        problems = [
            f"exclude: {c!r} is not a feature column of the contract"
            for c in self.exclude
            if c not in features
        ]
        problems += [
            f"simulation.data_drift: {c!r} is not a numeric column of the contract"
            for c in self.simulation.data_drift
            if c not in contract.numeric
        ]
        if self.simulation.concept_drift is not None:
            segment = self.simulation.concept_drift.segment
            problems += [
                f"simulation.concept_drift.segment: {c!r} is not a feature column of the contract"
                for c in segment
                if c not in features
            ]
            problems += [
                f"simulation.concept_drift.segment: {c!r} has a range but is not a numeric "
                "column of the contract (name one of its values)"
                for c, value in segment.items()
                if isinstance(value, ValueRange) and c in features and c not in contract.numeric
            ]
        if problems:
            raise DriftConfigError(contract_mismatch(path, problems))


def load_drift_config(path: Path) -> DriftConfig:
    """Read and check the drift configuration.

    Raises:
        DriftError: the file is absent, not valid YAML, or holds unknown keys or bad values.
    """
    return load_yaml(path, DriftConfig, "drift config", DriftConfigError)
