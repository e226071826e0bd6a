from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from {{ cookiecutter.package_name }}.monitoring import stats


def test_psi_is_zero_for_identical_shares_and_grows_with_shift() -> None:
    shares = [0.25, 0.25, 0.5]
    assert stats.psi(shares, shares) == 0.0
    small = stats.psi(shares, [0.2, 0.3, 0.5])
    large = stats.psi(shares, [0.05, 0.25, 0.7])
    assert 0 < small < large


def test_psi_matches_the_textbook_formula() -> None:
    ref, cur = np.array([0.1, 0.4, 0.5]), np.array([0.2, 0.4, 0.4])
    expected = float(np.sum((cur - ref) * np.log(cur / ref)))
    assert stats.psi(ref, cur) == pytest.approx(expected)


def test_psi_of_an_empty_bin_is_finite() -> None:
    assert np.isfinite(stats.psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]))


def test_quantile_edges_split_the_reference_evenly() -> None:
    values = np.arange(1000, dtype=float)
    edges = stats.quantile_edges(values, 10)
    assert len(edges) == 9
    assert np.allclose(stats.binned_fractions(values, edges), 0.1, atol=0.002)


def test_quantile_edges_collapse_on_discrete_data() -> None:
    values = np.array([0.0] * 900 + [1.0] * 100)
    edges = stats.quantile_edges(values, 10)
    assert list(edges) == [0.0]
    assert list(stats.binned_fractions(values, edges)) == pytest.approx([0.9, 0.1])
    assert (
        stats.psi(stats.binned_fractions(values, edges), stats.binned_fractions([0.0, 1.0], edges))
        > 0.25
    )


def test_ks_sees_a_shift_and_not_a_copy() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=2000)
    _, p_same = stats.ks_test(a, rng.normal(size=2000))
    _, p_shift = stats.ks_test(a, rng.normal(0.3, 1, size=2000))
    assert p_same > 0.01
    assert p_shift < 1e-6


def test_chi2_flags_an_unseen_category() -> None:
    _, p = stats.chi2_test([500, 500, 0], [400, 400, 200])
    assert p < 1e-10


def test_chi2_pools_rare_categories_instead_of_exploding() -> None:
    # One stray row of a rare value must not make the test scream.
    _, p = stats.chi2_test([5000, 5000, 0], [1000, 999, 1])
    assert p > 0.05


def test_chi2_agrees_with_scipy_when_counts_are_large() -> None:
    ref, cur = [300, 500, 200], [320, 450, 230]
    expected = scipy_stats.chi2_contingency([ref, cur], correction=False).pvalue
    assert stats.chi2_test(ref, cur)[1] == pytest.approx(expected)


def test_proportion_test() -> None:
    assert stats.proportion_test(0, 100, 0, 100) == 1.0
    assert stats.proportion_test(10, 7000, 200, 2000) < 1e-20
    assert stats.proportion_test(10, 7000, 3, 2000) > 0.05


def test_holm_adjustment_known_values() -> None:
    # Holm: sorted p * (m - rank), made monotone.
    assert stats.adjust_p_values([0.01, 0.04, 0.03, 0.5], "holm") == pytest.approx(
        [0.04, 0.09, 0.09, 0.5]
    )


def test_bonferroni_and_none() -> None:
    assert stats.adjust_p_values([0.01, 0.2], "bonferroni") == pytest.approx([0.02, 0.4])
    assert stats.adjust_p_values([0.01, 0.2], "none") == pytest.approx([0.01, 0.2])
    assert stats.adjust_p_values([], "holm") == []


def test_equal_width_histogram_shares_sum_to_one() -> None:
    edges, ref, cur = stats.equal_width_histogram([1, 2, 3, 4], [3, 4, 5, 6], bins=5)
    assert len(edges) == 6
    assert ref.sum() == pytest.approx(1.0)
    assert cur.sum() == pytest.approx(1.0)
