"""Derive drifted data from the sample, to prove the drift checks catch what they claim.

Three kinds, all starting from a seeded bootstrap resample of the training data:
- `none`: the resample as it is (no drift: the checks should stay quiet);
- `data`: numeric columns multiplied by configured factors (inputs shift,
  e.g. prices up and tenure down), kept inside the contract's range; the label
  column is dropped, as outcomes of fresh inputs are not known yet (keeping the
  old labels on shifted inputs would fake a concept change as well);
- `concept`: the label flipped for one segment (the relation between inputs
  and outcome changes while the inputs do not).
Which columns and how much come from config/drift.yaml or the command line,
never from code. Pure functions on the raw (text) frame, so the output can be
written back as a CSV that looks like the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from ..contract.model import DataContract
from ..errors import DriftError
from .config import SegmentValue, ValueRange
from .frames import categorical_view, numeric_view

Kind = Literal["none", "data", "concept"]
KINDS: tuple[Kind, ...] = ("none", "data", "concept")


def resample(raw: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """Rows drawn with replacement: a fresh sample from the same distribution."""
    return raw.sample(n=rows, replace=True, random_state=seed).reset_index(drop=True)


def _as_text(value: float, integer: bool) -> str:
    return str(round(value)) if integer else f"{value:.6g}"


def shift_numeric(
    raw: pd.DataFrame, contract: DataContract, factors: Mapping[str, float]
) -> pd.DataFrame:
    """Multiply numeric columns by their factor, clipped to the contract's range.

    Missing cells stay as they were, so the missing-value rate does not change.
    """
    shifted = raw.copy()
    for name, factor in factors.items():
        spec = contract.numeric.get(name)
        if spec is None:
            raise DriftError(f"cannot shift {name!r}: not a numeric column of the contract")
        values = numeric_view(raw[name], spec.missing_values)
        scaled = (values * factor).clip(lower=spec.min, upper=spec.max)
        integer = spec.dtype == "int"
        text = [
            original if np.isnan(v) else _as_text(v, integer)
            for original, v in zip(raw[name].astype(str), scaled, strict=True)
        ]
        shifted[name] = pd.Series(text, index=raw.index, dtype=object)
    return shifted


def segment_mask(
    raw: pd.DataFrame, contract: DataContract, segment: Mapping[str, SegmentValue]
) -> pd.Series:
    """Rows where every column of the segment has the given value (or a number in its range)."""
    mask = pd.Series(True, index=raw.index)
    for name, wanted in segment.items():
        if name not in raw.columns:
            raise DriftError(f"segment column {name!r} is not in the data")
        if isinstance(wanted, ValueRange):
            numbers = numeric_view(raw[name])
            if wanted.min is not None:
                mask &= numbers >= wanted.min
            if wanted.max is not None:
                mask &= numbers <= wanted.max
            continue
        integer = name in contract.numeric or (
            name in contract.categorical and contract.categorical[name].dtype == "int"
        )
        mask &= categorical_view(raw[name], integer).eq(str(wanted))
    return mask


def flip_labels(
    raw: pd.DataFrame, contract: DataContract, segment: Mapping[str, SegmentValue]
) -> pd.DataFrame:
    """Swap positive and negative labels inside the segment; other rows are untouched.

    Raises:
        DriftError: the segment matches no row (a typo would otherwise simulate nothing).
    """
    target = contract.target
    mask = segment_mask(raw, contract, segment)
    if not mask.any():
        described = {name: str(value) for name, value in segment.items()}
        raise DriftError(f"segment {described} matches no row")
    flipped = raw.copy()
    labels = raw[target.column].astype(str)
    swapped = labels.map({target.positive: target.negative, target.negative: target.positive})
    flipped[target.column] = labels.where(~mask, swapped.fillna(labels))
    return flipped


def simulate(
    raw: pd.DataFrame,
    contract: DataContract,
    kind: Kind,
    *,
    rows: int,
    seed: int,
    factors: Mapping[str, float] | None = None,
    segment: Mapping[str, SegmentValue] | None = None,
) -> pd.DataFrame:
    """Resample the data and apply one kind of drift.

    Raises:
        DriftError: the kind needs factors or a segment that were not given.
    """
    sample = resample(raw, rows, seed)
    if kind == "data":
        if not factors:
            raise DriftError("data drift needs factors (simulation.data_drift or --shift)")
        shifted = shift_numeric(sample, contract, factors)
        return shifted.drop(columns=[contract.target.column], errors="ignore")
    if kind == "concept":
        if not segment:
            raise DriftError(
                "concept drift needs a segment (simulation.concept_drift or --segment)"
            )
        return flip_labels(sample, contract, segment)
    return sample
