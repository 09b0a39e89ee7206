"""How the rank tests (Wilcoxon signed-rank, Mann-Whitney U) treat their data: the p-value
convention, and the precision at which two values count as tied.

Conventions (one for both tests, chosen in the analysis plan, `analyze_study(rank_tests=...)`
or `celltrial analyze --rank-tests`):

- "spss" (the default): SPSS 25 NPAR TESTS "Asymp. Sig. (2-tailed)" for every sample: the
  normal approximation with the tie-corrected variance, zero differences dropped, and no
  continuity correction (IBM SPSS Statistics 25 Algorithms, NPAR TESTS: Wilcoxon and
  Mann-Whitney). Lian 2022 (World J Diabetes 13:877, seed line 172) analysed with SPSS 25, so
  the default reproduces the source trial's P-values.
- "exact": the exact null distribution where it applies: at most EXACT_MAX_N values ranked
  (non-zero differences for Wilcoxon, both groups together for Mann-Whitney) and no ties
  among them; otherwise the same asymptotic test as "spss".

Ties: values (paired differences, or the values of two groups) are rounded to the variable's
reporting precision (celltrial.clinical.precision, the decimals the tables print) before
ranking, so that floating-point noise (7.1 - 7.0 against 8.1 - 8.0) cannot break a tie that
the data as recorded have.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from celltrial.clinical.precision import decimals

RankTests = Literal["spss", "exact"]
SPSS: RankTests = "spss"
EXACT: RankTests = "exact"
RANK_TESTS: tuple[RankTests, ...] = (SPSS, EXACT)
DEFAULT_RANK_TESTS: RankTests = SPSS  # Lian 2022 used SPSS 25 (module docstring)
# Exact tests up to 50 values ranked: Wilcoxon's signed-rank tables (Wilcoxon 1945) and
# SciPy's wilcoxon method="auto" switch; the same bound for Mann-Whitney (one rule for both).
EXACT_MAX_N = 50


class RankTestsError(ValueError):
    """A test convention other than the ones defined here."""

    def __init__(self, value: object) -> None:
        allowed = " or ".join(repr(c) for c in RANK_TESTS)
        super().__init__(f"rank-test convention must be {allowed}; got {value!r}")


def check_rank_tests(value: object) -> RankTests:
    """`value` as a convention, or RankTestsError naming the allowed ones."""
    if value not in RANK_TESTS:
        raise RankTestsError(value)
    return value  # type: ignore[return-value]


def exact_applies(convention: RankTests, n: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Where the exact distribution is used: the "exact" convention, 1..EXACT_MAX_N values
    ranked and no ties among them. Zero differences (Wilcoxon) are dropped before ranking and
    do not prevent the exact test, which is then conditional on their number (Wilcoxon 1945;
    SciPy's exact test of d[d != 0])."""
    n = np.asarray(n)
    exact = (n >= 1) & (n <= EXACT_MAX_N) & ~np.asarray(ties, dtype=bool)
    return exact & (convention == EXACT)


def scale_of(variable: str) -> float:
    """10^decimals of the variable's reporting precision."""
    return float(10 ** decimals(variable))


def at_precision(values: np.ndarray, variable: str) -> np.ndarray:
    """`values` rounded to the reporting precision of `variable` (half to even, as NumPy)."""
    s = scale_of(variable)
    return np.round(np.asarray(values, dtype=float) * s) / s
