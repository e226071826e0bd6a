"""Two-sample statistics for drift: pure functions of arrays, no I/O.

Each test answers "could these two samples come from the same distribution?"
with a p-value (Kolmogorov-Smirnov for numbers, chi-squared for categories,
Fisher's exact test for missing-value rates), and PSI measures how far apart
they are, independent of sample size. P-values of one run are adjusted together
because a dozen features tested at 5 % would raise a false alarm on almost every
run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

Floats = NDArray[np.float64]
Correction = Literal["holm", "bonferroni", "none"]

# Empty bins would make PSI infinite; this floor is the usual choice (0.01 %).
PSI_FLOOR = 1e-4


def psi(reference: ArrayLike, current: ArrayLike) -> float:
    """Population Stability Index of two vectors of bin fractions (each summing to 1)."""
    ref = np.clip(np.asarray(reference, dtype=np.float64), PSI_FLOOR, None)
    cur = np.clip(np.asarray(current, dtype=np.float64), PSI_FLOOR, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def quantile_edges(reference: ArrayLike, bins: int) -> Floats:
    """Interior bin edges at the reference's quantiles, so each bin holds ~1/bins of it.

    Duplicate edges are dropped: a discrete column (e.g. months) with a large
    share of one value gets fewer, wider bins instead of empty ones.
    """
    values = np.asarray(reference, dtype=np.float64)
    if values.size == 0:
        return np.empty(0)
    levels = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    # Edges are observed values (no interpolation), so a 0/1 column splits at 0.
    return np.unique(np.quantile(values, levels, method="inverted_cdf"))


def binned_fractions(values: ArrayLike, edges: ArrayLike) -> Floats:
    """Share of values in each of the len(edges) + 1 bins (-inf, e0], (e0, e1], ..., (e_k, inf)."""
    data = np.asarray(values, dtype=np.float64)
    cuts = np.asarray(edges, dtype=np.float64)
    counts = np.bincount(np.searchsorted(cuts, data, side="left"), minlength=cuts.size + 1)
    return counts / max(data.size, 1)


def ks_test(reference: ArrayLike, current: ArrayLike) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic (largest gap between the two CDFs) and its p-value."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.size == 0 or cur.size == 0:
        return 0.0, 1.0
    result = stats.ks_2samp(ref, cur)  # exact p-value up to 10,000 rows, asymptotic beyond
    return float(result.statistic), float(result.pvalue)


def pool_rare(table: NDArray[np.int64], min_expected: float = 5.0) -> NDArray[np.int64]:
    """Merge the smallest categories until every expected count reaches `min_expected`.

    The chi-squared approximation is poor for expected counts below ~5; merging
    keeps the test valid while a large unseen or vanished category still counts.
    """
    table = table[:, table.sum(axis=0) > 0]
    while table.shape[1] > 2:
        expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
        if expected.min() >= min_expected:
            break
        order = np.argsort(table.sum(axis=0), kind="stable")
        merged = table[:, order[0]] + table[:, order[1]]
        table = np.column_stack([table[:, order[2:]], merged])
    return table


def chi2_test(reference_counts: ArrayLike, current_counts: ArrayLike) -> tuple[float, float]:
    """Chi-squared test of homogeneity on two vectors of category counts (same category order)."""
    table = np.vstack(
        [np.asarray(reference_counts, dtype=np.int64), np.asarray(current_counts, dtype=np.int64)]
    )
    table = pool_rare(table)
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def proportion_test(hits_a: int, rows_a: int, hits_b: int, rows_b: int) -> float:
    """Fisher's exact p-value that two rates (e.g. of missing values) are equal."""
    if hits_a + hits_b == 0 or rows_a == 0 or rows_b == 0:
        return 1.0
    table = [[hits_a, rows_a - hits_a], [hits_b, rows_b - hits_b]]
    return float(stats.fisher_exact(table).pvalue)


def adjust_p_values(p_values: Sequence[float], method: Correction) -> list[float]:
    """Adjust p-values for testing many columns at once (family-wise error rate).

    Holm's step-down method controls the same error rate as Bonferroni and
    never rejects less, so it is the default.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if method == "none" or m == 0:
        return [float(v) for v in p]
    if method == "bonferroni":
        return [float(v) for v in np.minimum(p * m, 1.0)]
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(np.argsort(p, kind="stable")):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return [float(v) for v in adjusted]


def equal_width_histogram(
    reference: ArrayLike, current: ArrayLike, bins: int = 20
) -> tuple[list[float], Floats, Floats]:
    """Shares of both samples over common equal-width bins; for pictures, not for tests."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    both = np.concatenate([ref, cur])
    if both.size == 0:
        return [0.0, 1.0], np.zeros(1), np.zeros(1)
    low, high = float(both.min()), float(both.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    ref_counts, _ = np.histogram(ref, bins=edges)
    cur_counts, _ = np.histogram(cur, bins=edges)
    return (
        [float(e) for e in edges],
        ref_counts / max(ref.size, 1),
        cur_counts / max(cur.size, 1),
    )
