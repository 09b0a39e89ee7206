"""Two-group comparisons for subgroups and completers: Mann-Whitney U and Fisher's exact test.

Groups are few (one comparison per variable), so each calls SciPy once; the data themselves
are never looped over in Python. Many splits of the same values (subgroups of one registry) share
one ranking: average_ranks once, then mann_whitney_normal on each split's rank sum. The p-value
follows the rank-test convention of celltrial.analysis.ranking ("spss": SPSS 25 Asymp. Sig.,
tie-corrected, no continuity correction; "exact": exact when at most 50 values and no ties).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from celltrial.analysis.ranking import DEFAULT_RANK_TESTS, RankTests, exact_applies

METHOD_MWU_EXACT = "Mann-Whitney U (two-sided, exact)"
METHOD_MWU = (
    "Mann-Whitney U (two-sided, asymptotic: normal approximation, tie-corrected, "
    "no continuity correction)"
)
METHOD_FISHER = "Fisher's exact test (two-sided)"


@dataclass(frozen=True)
class GroupComparison:
    method: str
    n1: int
    n2: int
    statistic: float | None
    p_value: float | None
    reason: str | None = None


def mann_whitney(
    x: np.ndarray, y: np.ndarray, rank_tests: RankTests = DEFAULT_RANK_TESTS
) -> GroupComparison:
    """Mann-Whitney U of x against y under the rank-test convention, NaNs dropped. The values
    are ranked as given: callers round them to the variable's precision (ranking.at_precision)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) == 0 or len(y) == 0:
        return GroupComparison(METHOD_MWU, len(x), len(y), None, None, "a group has no values")
    both = np.concatenate([x, y])
    if np.ptp(both) == 0:
        return GroupComparison(METHOD_MWU, len(x), len(y), None, None, "all values equal")
    ties = len(np.unique(both)) < len(both)
    exact = bool(exact_applies(rank_tests, len(both), ties))
    res = stats.mannwhitneyu(
        x,
        y,
        alternative="two-sided",
        method="exact" if exact else "asymptotic",
        use_continuity=False,  # SPSS 25 Mann-Whitney Z has no continuity correction
    )
    method = METHOD_MWU_EXACT if exact else METHOD_MWU
    return GroupComparison(method, len(x), len(y), float(res.statistic), float(res.pvalue))


def average_ranks(ascending: np.ndarray) -> tuple[np.ndarray, float]:
    """1-based average ranks of values sorted ascending, and the tie term sum(t^3 - t) over the
    runs of equal values (as scipy.stats.rankdata(method="average") and SciPy's _rankdata)."""
    n = len(ascending)
    starts = np.flatnonzero(np.r_[True, ascending[1:] != ascending[:-1]])  # [0] when empty
    t = np.diff(np.r_[starts, n])  # run lengths: a run holds positions starts+1 .. starts+t
    ranks = np.repeat(starts + (t + 1) / 2.0, t)  # mean of the run's 1-based positions
    return ranks, float(np.sum(t**3 - t))  # integers < 2^53: exact, whatever the summation order


def mann_whitney_normal(
    r1: np.ndarray, n1: np.ndarray, n2: np.ndarray, tie_term: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """U1 and the two-sided p of Mann-Whitney from the first group's rank sum, per group: the
    normal approximation with tie correction and no continuity correction (SPSS 25), operation
    for operation as scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=False) (SciPy
    1.17 _mannwhitneyu.py), so that the floats agree exactly. n1, n2 > 0, values not all equal."""
    n1, n2 = np.asarray(n1, dtype=np.int64), np.asarray(n2, dtype=np.int64)
    u1 = r1 - n1 * (n1 + 1) / 2  # U1 = R1 - n1(n1+1)/2, the statistic SciPy reports
    u2 = n1 * n2 - u1  # U1 + U2 = n1 n2
    u = np.maximum(u1, u2)  # two-sided: the larger U, survival function doubled
    n = n1 + n2
    mu = n1 * n2 / 2  # mean of U under H0
    s = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))  # tie-corrected sd
    with np.errstate(divide="ignore", invalid="ignore"):  # s = 0 (all inf): SciPy's z, silently
        z = (u - mu) / s  # SPSS 25: no continuity correction
    p = special.ndtr(-z) * 2
    return u1, np.clip(p, 0.0, 1.0)  # SciPy clips p to [0, 1]


def fisher_2x2(a: int, b: int, c: int, d: int) -> GroupComparison:
    """Fisher's exact test of [[a, b], [c, d]] (rows = groups, columns = yes/no)."""
    n1, n2 = a + b, c + d
    if n1 == 0 or n2 == 0:
        return GroupComparison(METHOD_FISHER, n1, n2, None, None, "a group is empty")
    res = stats.fisher_exact([[a, b], [c, d]])
    odds = float(res.statistic)
    return GroupComparison(
        METHOD_FISHER, n1, n2, odds if np.isfinite(odds) else None, float(res.pvalue)
    )
