"""Two-group comparisons for subgroups and completers: Mann-Whitney U and Fisher's exact test.

Groups are few (one comparison per variable), so each calls SciPy once; the data themselves
are never looped over in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

# SciPy's method="auto": exact when a group has <= 8 values and there are no ties.
METHOD_MWU = (
    "Mann-Whitney U (two-sided; exact when a group has <= 8 values and no ties, "
    "else normal approximation with tie and continuity correction)"
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


def mann_whitney(x: np.ndarray, y: np.ndarray) -> GroupComparison:
    """Mann-Whitney U of x against y (SciPy's method="auto"), NaNs dropped."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) == 0 or len(y) == 0:
        return GroupComparison(METHOD_MWU, len(x), len(y), None, None, "a group has no values")
    if np.ptp(np.concatenate([x, y])) == 0:
        return GroupComparison(METHOD_MWU, len(x), len(y), None, None, "all values equal")
    res = stats.mannwhitneyu(x, y, alternative="two-sided")
    return GroupComparison(METHOD_MWU, len(x), len(y), float(res.statistic), float(res.pvalue))


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
