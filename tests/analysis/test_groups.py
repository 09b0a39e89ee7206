"""The shared-ranking Mann-Whitney pieces against SciPy on the same data."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from celltrial.analysis.groups import average_ranks, mann_whitney_normal, uses_exact

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


@settings(max_examples=200)
@given(st.lists(_values.filter(lambda v: len(v) > 0), min_size=2, max_size=2))
def test_normal_approximation_equals_scipy_exactly(xy: list[list[float]]) -> None:
    x, y = (np.array(v) for v in xy)
    if np.ptp(np.concatenate([x, y])) == 0:
        return  # all equal: no test (mann_whitney reports a reason instead)
    both = np.sort(np.concatenate([x, y]))
    _, tie_term = average_ranks(both)
    r1 = stats.rankdata(np.concatenate([x, y]))[: len(x)].sum()
    u1, p = mann_whitney_normal(np.array([r1]), np.array([len(x)]), np.array([len(y)]), tie_term)
    ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    assert u1[0] == ref.statistic and p[0] == ref.pvalue  # same floats, bit for bit


@given(st.integers(1, 12), st.integers(1, 12), st.booleans())
def test_uses_exact_where_scipy_auto_is_exact(n1: int, n2: int, tied: bool) -> None:
    x = np.arange(n1, dtype=float)
    y = np.arange(n2, dtype=float) + 0.5 + (0.5 if tied else 0.0)  # tied: y meets x's integers
    ties = len(np.unique(np.concatenate([x, y]))) < n1 + n2
    auto = stats.mannwhitneyu(x, y, method="auto").pvalue
    exact = stats.mannwhitneyu(x, y, method="exact").pvalue
    asymptotic = stats.mannwhitneyu(x, y, method="asymptotic").pvalue
    chosen = exact if uses_exact(np.array(n1), np.array(n2), np.array(ties)) else asymptotic
    assert auto == chosen
