"""The shared-ranking Mann-Whitney pieces against SciPy on the same data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from celltrial.analysis.groups import (
    METHOD_MWU,
    METHOD_MWU_EXACT,
    average_ranks,
    mann_whitney,
    mann_whitney_normal,
)
from celltrial.analysis.ranking import EXACT_MAX_N

# few distinct values (multiples of 0.5 in [-3, 3]) so that ties are common
_values = st.lists(st.integers(-6, 6).map(lambda k: k / 2), min_size=0, max_size=40)


@given(_values)
def test_average_ranks_and_tie_term_match_scipy(x: list[float]) -> None:
    a = np.sort(np.array(x, dtype=float))
    ranks, tie_term = average_ranks(a)
    assert np.array_equal(ranks, stats.rankdata(a, method="average"))
    _, counts = np.unique(a, return_counts=True)  # t of each distinct value, found independently
    assert tie_term == float(np.sum(counts.astype(float) ** 3 - counts))


def test_average_ranks_by_hand() -> None:
    # [1, 2, 2, 2, 5]: the three 2s hold positions 2..4, average 3; t = 3 -> 27 - 3 = 24
    ranks, tie_term = average_ranks(np.array([1.0, 2.0, 2.0, 2.0, 5.0]))
    assert ranks.tolist() == [1.0, 3.0, 3.0, 3.0, 5.0]
    assert tie_term == 24.0


@settings(max_examples=200, deadline=None)  # timing varies on a shared machine
@given(st.lists(_values.filter(lambda v: len(v) > 0), min_size=2, max_size=2))
def test_normal_approximation_equals_scipy_exactly(xy: list[list[float]]) -> None:
    x, y = (np.array(v) for v in xy)
    if np.ptp(np.concatenate([x, y])) == 0:
        return  # all equal: no test (mann_whitney reports a reason instead)
    both = np.sort(np.concatenate([x, y]))
    _, tie_term = average_ranks(both)
    r1 = stats.rankdata(np.concatenate([x, y]))[: len(x)].sum()
    u1, p = mann_whitney_normal(np.array([r1]), np.array([len(x)]), np.array([len(y)]), tie_term)
    ref = stats.mannwhitneyu(
        x, y, alternative="two-sided", method="asymptotic", use_continuity=False
    )
    assert u1[0] == ref.statistic and p[0] == ref.pvalue  # same floats, bit for bit


def test_spss_worked_example_by_hand() -> None:
    # x = 1, 2, 2, 4; y = 3, 5, 5, 6, 7. Ranks of all 9: 1 -> 1, 2 2 -> 2.5 2.5, 3 -> 4, 4 -> 5,
    # 5 5 -> 6.5 6.5, 6 -> 8, 7 -> 9. R_x = 11, U = 11 - 4 x 5 / 2 = 1. E(U) = 20 / 2 = 10;
    # ties t = 2, 2: sum(t^3 - t) = 12; Var = 20/12 x (10 - 12 / (9 x 8)) = 16.38889.
    # SPSS: Mann-Whitney U = 1.000, Z = (1 - 10) / 4.04832 = -2.223, Asymp. Sig. = .026.
    r = mann_whitney(np.array([1.0, 2, 2, 4]), np.array([3.0, 5, 5, 6, 7]))
    assert r.method == METHOD_MWU and r.statistic == 1.0
    assert r.p_value == pytest.approx(2 * stats.norm.cdf(-9 / np.sqrt(20 / 12 * (10 - 12 / 72))))
    assert r.p_value == pytest.approx(0.0262060364, rel=1e-8)


@settings(max_examples=100, deadline=None)
@given(st.lists(_values.filter(len), min_size=2, max_size=2), st.sampled_from(["spss", "exact"]))
def test_conventions_match_scipy(xy: list[list[float]], convention: str) -> None:
    x, y = (np.array(v) for v in xy)
    both = np.concatenate([x, y])
    r = mann_whitney(x, y, convention)
    if np.ptp(both) == 0:
        assert r.reason == "all values equal"
        return
    untied = len(np.unique(both)) == len(both)
    exact = convention == "exact" and untied and len(both) <= EXACT_MAX_N
    assert r.method == (METHOD_MWU_EXACT if exact else METHOD_MWU)
    method = "exact" if exact else "asymptotic"
    ref = stats.mannwhitneyu(x, y, method=method, use_continuity=False)
    assert r.statistic == ref.statistic
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_exact_convention_small_untied_groups() -> None:
    x, y = np.array([1.2, 3.4, 0.5, 2.2]), np.array([4.1, 5.0, 3.9, 6.3, 2.9])
    r = mann_whitney(x, y, "exact")
    assert r.method == METHOD_MWU_EXACT
    # U = 1 (only 3.4 > 2.9): P(U <= 1) = 2 / C(9, 4) = 2 / 126; two-sided 4 / 126
    assert r.statistic == 1.0
    assert r.p_value == pytest.approx(4 / 126, rel=1e-12)
