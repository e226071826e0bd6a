"""Decide, column by column, whether recent data drifted from the training data.

The data contract picks the test: Kolmogorov-Smirnov for numeric columns,
chi-squared on counts for categorical ones, PSI for both; plus the rate of
missing values per column, the model's score and the label when both sides
have them, and the live metrics when labels are known (concept.py). All
p-values of one run are adjusted together (Holm by default).
A column drifts when its adjusted p-value is below alpha or its PSI reaches the
alert level; a PSI between the warn and alert levels is reported as a warning.
Pure: DataFrames and arrays in, a `DriftResult` out.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np
import pandas as pd

from ..contract.model import DataContract
from . import stats
from .concept import ConceptResult, compare_live_metrics
from .config import DriftConfig
from .frames import Sample, is_positive

Role = Literal["numeric", "categorical", "score", "label"]
Status = Literal["ok", "warn", "drift"]
OverallStatus = Literal["ok", "warn", "drift", "insufficient_data"]
SCORE_NAME = "prediction score"
_PICTURE_CATEGORIES = 12


@dataclass(frozen=True)
class Histogram:
    """Reference and current shares per bin or category, for the report's pictures.

    `labels` name each bin ("18.25-23.1") or category; `axis` holds the two ends
    of a numeric range (empty for categories, which are labelled one by one).
    """

    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    axis: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class ColumnCheck:
    """The distribution test of one column (a feature, the score or the label)."""

    column: str
    role: Role
    test: Literal["ks", "chi2"]
    statistic: float
    p_value: float
    psi: float
    reference_rows: int
    current_rows: int
    change: str
    histogram: Histogram
    unseen: tuple[str, ...] = ()
    p_adjusted: float = 1.0
    status: Status = "ok"
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class MissingCheck:
    """The rate of missing values in one column, reference against current."""

    column: str
    reference_rate: float
    current_rate: float
    p_value: float
    p_adjusted: float = 1.0
    drifted: bool = False


@dataclass(frozen=True)
class DriftResult:
    """Everything one drift run found, ready to be rendered as JSON, Markdown or HTML."""

    status: OverallStatus
    reference_rows: int
    current_rows: int
    alpha: float
    correction: str
    psi_warn: float
    psi_alert: float
    columns: tuple[ColumnCheck, ...] = ()
    missing: tuple[MissingCheck, ...] = ()
    concept: ConceptResult | None = None
    notes: tuple[str, ...] = ()
    reference: str = ""
    current: str = ""

    @property
    def drifted_columns(self) -> list[str]:
        """Columns whose distribution drifted, most shifted (by PSI) first."""
        hits = [c for c in self.columns if c.status == "drift"]
        return [c.column for c in sorted(hits, key=lambda c: -c.psi)]

    @property
    def warned_columns(self) -> list[str]:
        """Columns with a moderate PSI that did not count as drift."""
        return [c.column for c in self.columns if c.status == "warn"]

    @property
    def missing_drifted(self) -> list[str]:
        """Columns whose missing-value rate drifted."""
        return [m.column for m in self.missing if m.drifted]

    @property
    def degraded_metrics(self) -> list[str]:
        """Live metrics that fell beyond their tolerance."""
        return [] if self.concept is None else [c.name for c in self.concept.degraded]

    @property
    def failed(self) -> bool:
        """True when anything drifted: the command then exits non-zero."""
        return self.status == "drift"

    def headline(self) -> str:
        """One line for the console, a notification title or a commit status."""
        if self.status == "insufficient_data":
            return f"drift: not checked, {self.current_rows} current rows are too few"
        parts = []
        roles = {c.column: c.role for c in self.columns}
        features = [c for c in self.drifted_columns if roles[c] in {"numeric", "categorical"}]
        if features:
            parts.append("data drift in " + ", ".join(features))
        if any(roles[c] == "score" for c in self.drifted_columns):
            parts.append("prediction-score drift")
        if any(roles[c] == "label" for c in self.drifted_columns):
            parts.append("label drift")
        if self.missing_drifted:
            parts.append("missing-value drift in " + ", ".join(self.missing_drifted))
        if self.degraded_metrics:
            parts.append("concept drift: " + ", ".join(self.degraded_metrics) + " dropped")
        if parts:
            return "drift: DETECTED - " + "; ".join(parts)
        if self.warned_columns:
            return "drift: warning - moderate PSI in " + ", ".join(self.warned_columns)
        return f"drift: none detected ({len(self.columns)} columns checked)"


def _numeric_check(
    name: str, role: Role, reference: pd.Series, current: pd.Series, bins: int
) -> ColumnCheck:
    ref = reference.dropna().to_numpy(dtype=np.float64)
    cur = current.dropna().to_numpy(dtype=np.float64)
    statistic, p_value = stats.ks_test(ref, cur)
    edges = stats.quantile_edges(ref, bins)
    psi = stats.psi(stats.binned_fractions(ref, edges), stats.binned_fractions(cur, edges))
    picture_edges, ref_share, cur_share = stats.equal_width_histogram(ref, cur)
    labels = tuple(f"{low:.4g}-{high:.4g}" for low, high in pairwise(picture_edges))
    axis = (f"{picture_edges[0]:.4g}", f"{picture_edges[-1]:.4g}")
    change = (
        f"mean {np.mean(ref):.4g} → {np.mean(cur):.4g}, median {np.median(ref):.4g} → "
        f"{np.median(cur):.4g}"
        if ref.size and cur.size
        else "no values to compare"
    )
    return ColumnCheck(
        column=name,
        role=role,
        test="ks",
        statistic=statistic,
        p_value=p_value,
        psi=psi,
        reference_rows=int(ref.size),
        current_rows=int(cur.size),
        change=change,
        histogram=Histogram(
            labels, tuple(ref_share.tolist()), tuple(cur_share.tolist()), axis=axis
        ),
    )


def _counts(values: pd.Series) -> Counter[str]:
    """Rows per category, categories as text.

    Views hold text (`frames.categorical_view`), counted by pandas at C speed; any
    other mix is counted value by value (True == 1, yet "True" and "1" differ).
    """
    present = values.dropna()
    if pd.api.types.infer_dtype(present, skipna=False) == "string":
        return Counter({str(k): int(n) for k, n in present.value_counts(sort=False).items()})
    return Counter(str(v) for v in present.to_numpy())


def _categorical_check(
    name: str, role: Role, reference: pd.Series, current: pd.Series, declared: tuple[str, ...]
) -> ColumnCheck:
    ref, cur = _counts(reference), _counts(current)
    observed = sorted((set(ref) | set(cur)) - set(declared))
    categories = [*declared, *observed]
    ref_counts = np.array([ref[c] for c in categories], dtype=np.int64)
    cur_counts = np.array([cur[c] for c in categories], dtype=np.int64)
    statistic, p_value = stats.chi2_test(ref_counts, cur_counts)
    ref_share = ref_counts / max(ref_counts.sum(), 1)
    cur_share = cur_counts / max(cur_counts.sum(), 1)
    psi = stats.psi(ref_share, cur_share)
    first_extra = len(declared)  # categories after the declared ones are outside the contract
    unseen = tuple(
        c
        for c, r, k in zip(
            categories[first_extra:],
            ref_counts[first_extra:],
            cur_counts[first_extra:],
            strict=True,
        )
        if k and not r
    )
    moved = int(np.argmax(np.abs(cur_share - ref_share))) if categories else 0
    change = (
        f"{categories[moved]!s}: {ref_share[moved]:.1%} → {cur_share[moved]:.1%}"
        if categories
        else "no values to compare"
    )
    order = np.argsort(-(ref_share + cur_share), kind="stable")[:_PICTURE_CATEGORIES]
    histogram = Histogram(
        tuple(categories[i] for i in order),
        tuple(float(ref_share[i]) for i in order),
        tuple(float(cur_share[i]) for i in order),
    )
    return ColumnCheck(
        column=name,
        role=role,
        test="chi2",
        statistic=statistic,
        p_value=p_value,
        psi=psi,
        reference_rows=int(ref_counts.sum()),
        current_rows=int(cur_counts.sum()),
        change=change,
        histogram=histogram,
        unseen=unseen,
    )


def _missing_check(name: str, reference: pd.Series, current: pd.Series) -> MissingCheck | None:
    ref_missing, cur_missing = int(reference.isna().sum()), int(current.isna().sum())
    if ref_missing == 0 and cur_missing == 0:
        return None
    p_value = stats.proportion_test(ref_missing, len(reference), cur_missing, len(current))
    return MissingCheck(
        column=name,
        reference_rate=ref_missing / max(len(reference), 1),
        current_rate=cur_missing / max(len(current), 1),
        p_value=p_value,
    )


def _judge(check: ColumnCheck, p_adjusted: float, config: DriftConfig) -> ColumnCheck:
    reasons = []
    status: Status = "ok"
    label = "KS" if check.test == "ks" else "chi²"
    if p_adjusted < config.alpha:
        status = "drift"
        reasons.append(f"{label} p = {p_adjusted:.2g} (adjusted) < {config.alpha:g}")
    if check.psi >= config.psi.alert:
        status = "drift"
        reasons.append(f"PSI {check.psi:.3f} ≥ {config.psi.alert:g}")
    elif check.psi >= config.psi.warn:
        status = "drift" if status == "drift" else "warn"
        reasons.append(f"PSI {check.psi:.3f} ≥ {config.psi.warn:g} (warn)")
    if check.unseen:
        reasons.append("values outside the contract: " + ", ".join(check.unseen[:5]))
    return dataclasses.replace(check, p_adjusted=p_adjusted, status=status, reasons=tuple(reasons))


def _concept(
    current: Sample,
    contract: DataContract,
    config: DriftConfig,
    training_metrics: Mapping[str, float] | None,
    threshold: float,
) -> ConceptResult | None:
    if current.labels is None or current.scores is None:
        return None  # without both there is nothing to judge (the caller notes a missing model)
    labelled = current.labels.notna().to_numpy() & np.isfinite(current.scores)
    labels = is_positive(current.labels[labelled], contract.target.positive)
    if training_metrics is None:
        return ConceptResult(
            int(labelled.sum()),
            int(labels.sum()),
            note="no metrics/metrics.json to compare live metrics with (run `make train`)",
        )
    return compare_live_metrics(
        labels,
        current.scores[labelled],
        training_metrics,
        config.concept.max_drop,
        threshold=threshold,
        min_rows=config.concept.min_labelled_rows,
    )


def detect_drift(
    reference: Sample,
    current: Sample,
    contract: DataContract,
    config: DriftConfig,
    *,
    training_metrics: Mapping[str, float] | None = None,
    threshold: float = 0.5,
    notes: tuple[str, ...] = (),
) -> DriftResult:
    """Compare `current` with `reference` column by column and decide what drifted."""
    base = DriftResult(
        status="ok",
        reference_rows=reference.rows,
        current_rows=current.rows,
        alpha=config.alpha,
        correction=config.correction,
        psi_warn=config.psi.warn,
        psi_alert=config.psi.alert,
        notes=notes,
        reference=reference.description,
        current=current.description,
    )
    if current.rows < config.min_rows:
        note = f"{current.rows} current rows, fewer than min_rows = {config.min_rows}: not checked"
        return dataclasses.replace(base, status="insufficient_data", notes=(*notes, note))

    checks: list[ColumnCheck] = []
    missing: list[MissingCheck] = []
    for name in contract.feature_columns:
        if name in config.exclude:
            continue
        ref, cur = reference.features[name], current.features[name]
        if name in contract.numeric:
            checks.append(_numeric_check(name, "numeric", ref, cur, config.psi.bins))
        else:
            declared = tuple(str(v) for v in contract.categorical[name].values)
            checks.append(_categorical_check(name, "categorical", ref, cur, declared))
        found = _missing_check(name, ref, cur)
        if found is not None:
            missing.append(found)
    if config.score and reference.scores is not None and current.scores is not None:
        checks.append(
            _numeric_check(
                SCORE_NAME,
                "score",
                pd.Series(reference.scores),
                pd.Series(current.scores),
                config.psi.bins,
            )
        )
    if (
        config.label
        and reference.labels is not None
        and current.labels is not None
        and current.labels.notna().any()
    ):
        labels = (contract.target.negative, contract.target.positive)
        name = f"{contract.target.column} (label)"
        checks.append(_categorical_check(name, "label", reference.labels, current.labels, labels))

    concept = _concept(current, contract, config, training_metrics, threshold)
    metric_checks = concept.checks if concept is not None else ()
    # One family: every test of this run shares the false-alarm budget alpha.
    adjusted = stats.adjust_p_values(
        [c.p_value for c in checks]
        + [m.p_value for m in missing]
        + [m.p_value for m in metric_checks],
        config.correction,
    )
    judged = tuple(_judge(c, p, config) for c, p in zip(checks, adjusted, strict=False))
    missing_adjusted = adjusted[len(checks) : len(checks) + len(missing)]
    missing_judged = tuple(
        dataclasses.replace(
            m,
            p_adjusted=p,
            drifted=p < config.alpha
            and abs(m.current_rate - m.reference_rate) >= config.missing.min_change,
        )
        for m, p in zip(missing, missing_adjusted, strict=True)
    )
    if concept is not None:
        concept = concept.judged(adjusted[len(checks) + len(missing) :], config.alpha)
    result = dataclasses.replace(base, columns=judged, missing=missing_judged, concept=concept)
    if result.drifted_columns or result.missing_drifted or result.degraded_metrics:
        return dataclasses.replace(result, status="drift")
    if result.warned_columns:
        return dataclasses.replace(result, status="warn")
    return result
