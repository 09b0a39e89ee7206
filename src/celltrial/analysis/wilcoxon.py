"""Wilcoxon signed-rank test for paired differences, vectorized over many groups at once.

Zero differences are dropped (Wilcoxon 1945; SciPy zero_method="wilcox"; SPSS NPAR TESTS). The
p-value follows the rank-test convention (celltrial.analysis.ranking): "spss", SPSS 25's
Asymp. Sig., the normal approximation with the tie correction and no continuity correction
(Lehmann, Nonparametrics 1975, eq. 3.32), for every sample; or "exact", the exact null
distribution (by the recurrence of Wilcoxon's signed-rank counts) when 1 <= n <= 50 non-zero
differences have no tied magnitudes, else the same normal approximation. Validated against
scipy.stats.wilcoxon in tests/analysis/test_wilcoxon.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
from scipy import stats

from celltrial.analysis.ranking import DEFAULT_RANK_TESTS, EXACT_MAX_N, RankTests, exact_applies

__all__ = ["EXACT_MAX_N", "METHOD_EXACT", "METHOD_NORMAL", "signed_rank", "signrank_cdf"]
METHOD_EXACT = "wilcoxon signed-rank (exact)"
METHOD_NORMAL = (
    "wilcoxon signed-rank (asymptotic: normal approximation, tie-corrected, "
    "no continuity correction)"
)


@cache
def signrank_cdf(n_max: int = EXACT_MAX_N) -> np.ndarray:
    """cdf[n, k] = P(T+ <= k) under H0 for n untied non-zero differences, n <= n_max.

    Counts of subsets of {1..n} summing to k: c_n(k) = c_{n-1}(k) + c_{n-1}(k - n)
    (Wilcoxon 1945), divided by 2^n. Float64 is exact: counts stay below 2^53 for n <= 50.
    """
    size = n_max * (n_max + 1) // 2 + 1
    counts = np.zeros((n_max + 1, size))
    counts[0, 0] = 1.0
    for n in range(1, n_max + 1):  # one step per sample size, not per datum
        counts[n] = counts[n - 1]
        counts[n, n:] += counts[n - 1, :-n]
    cdf = np.cumsum(counts, axis=1) / (2.0 ** np.arange(n_max + 1))[:, None]
    return np.minimum(cdf, 1.0)


def exact_p(n: np.ndarray, t_plus: np.ndarray) -> np.ndarray:
    """Two-sided exact p = 2 min(P(T+ <= t), P(T+ >= t)), clipped to 1 (as SciPy)."""
    cdf = signrank_cdf()
    n = n.astype(np.int64)
    t = np.rint(t_plus).astype(np.int64)
    lower = cdf[n, t]
    upper = 1.0 - np.where(t > 0, cdf[n, np.maximum(t - 1, 0)], 0.0)
    return np.clip(2.0 * np.minimum(lower, upper), 0.0, 1.0)


@dataclass(frozen=True)
class MagnitudeOrder:
    """The non-zero differences of each group, ordered by |d| within the group: group i (row i
    of `keys`, the `by` values) holds v[starts[i]:starts[i + 1]]. One sort serves both the
    signed ranks and, reordered in O(n), the Hodges-Lehmann Walsh averages."""

    keys: pl.DataFrame
    starts: np.ndarray
    v: np.ndarray


def order_by_magnitude(diffs: pl.DataFrame, by: list[str], d: str = "d") -> MagnitudeOrder:
    """Sort the valid non-zero differences of each group by |d| (one Polars group_by, its
    per-group sorts in parallel). Groups without a non-zero difference are left out."""
    nz = diffs.filter(pl.col(d).is_not_null() & ~pl.col(d).is_nan() & (pl.col(d) != 0))
    grouped = nz.group_by(by).agg(pl.col(d).sort_by(pl.col(d).abs()).alias("_v"))
    lengths = grouped["_v"].list.len().to_numpy().astype(np.int64)
    v = grouped["_v"].explode().to_numpy().astype(float)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return MagnitudeOrder(grouped.select(by), starts, v)


def _rank_sums(order: MagnitudeOrder) -> pl.DataFrame:
    """n, r_plus, r_minus, tie_term and ties per group from runs of tied |d|: a run of t tied
    values at 0-based positions p..p+t-1 of its group gets the average rank p + (t + 1)/2
    (as rank("average")). Sums of half-integers are exact in float64, in any order."""
    v, starts = order.v, order.starts
    groups = order.keys.height
    a = np.abs(v)
    new_run = np.ones(len(v), dtype=bool)
    new_run[1:] = a[1:] != a[:-1]
    new_run[starts[:-1]] = True  # a run never spans two groups
    run_at = np.flatnonzero(new_run)
    t = np.diff(np.append(run_at, len(v)))
    group = np.searchsorted(starts, run_at, side="right") - 1  # each run's group
    avg = run_at - starts[group] + (t + 1) / 2.0
    if len(v):  # reduceat cannot take an empty array
        plus = np.add.reduceat((v > 0).astype(np.int64), run_at)  # positives in each run
    else:
        plus = np.zeros(0, dtype=np.int64)
    tf = t.astype(float)
    return order.keys.with_columns(
        pl.Series("n", np.diff(starts), dtype=pl.Int64),
        pl.Series("r_plus", np.bincount(group, avg * plus, groups)),
        pl.Series("r_minus", np.bincount(group, avg * (t - plus), groups)),
        # sum of t^3 - t over tied runs (Lehmann 1975, eq. 3.32 tie correction)
        pl.Series("tie_term", np.bincount(group, tf**3 - tf, groups)),
        pl.Series("ties", np.bincount(group, t > 1, groups) > 0),
    )


def signed_rank(
    diffs: pl.DataFrame,
    by: list[str],
    d: str = "d",
    order: MagnitudeOrder | None = None,
    rank_tests: RankTests = DEFAULT_RANK_TESTS,
) -> pl.DataFrame:
    """Wilcoxon signed-rank test of median(d) = 0 for each group of `by` in `diffs`.

    Returns `by` + n_pairs, n_zero, n (non-zero), r_plus, r_minus, statistic (min of the two, as
    SciPy and SPSS), ties, tie_term (sum of t^3 - t), z, p_value, method and reason. `order`:
    order_by_magnitude(diffs, by, d), if the caller has it already. `d` is ranked as given:
    compare_with_baseline rounds it to the analyte's precision first (ranking.at_precision).
    """
    valid = diffs.filter(pl.col(d).is_not_null() & ~pl.col(d).is_nan())
    counts = valid.group_by(by).agg(
        pl.len().alias("n_pairs"), (pl.col(d) == 0).sum().cast(pl.Int64).alias("n_zero")
    )
    sums = _rank_sums(order if order is not None else order_by_magnitude(diffs, by, d))
    out = counts.join(sums, on=by, how="left").with_columns(
        pl.col("n").fill_null(0).cast(pl.Int64),
        pl.col("r_plus").fill_null(0.0),
        pl.col("r_minus").fill_null(0.0),
        pl.col("tie_term").fill_null(0.0),
        pl.col("ties").fill_null(False),
    )
    return _add_p_values(out, rank_tests)


def _add_p_values(out: pl.DataFrame, rank_tests: RankTests) -> pl.DataFrame:
    n = out["n"].to_numpy().astype(float)
    r_plus = out["r_plus"].to_numpy().astype(float)
    tie_term = out["tie_term"].to_numpy().astype(float)
    exact = exact_applies(rank_tests, n, out["ties"].to_numpy())
    mean = n * (n + 1) / 4.0
    var = (n * (n + 1) * (2 * n + 1) - tie_term / 2.0) / 24.0  # Lehmann 1975 tie correction
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (r_plus - mean) / np.sqrt(var), np.nan)
    p_norm = 2.0 * stats.norm.sf(np.abs(z))
    p_exact = exact_p(np.where(exact, n, 0), np.where(exact, r_plus, 0))
    p = np.where(exact, p_exact, np.where(n >= 1, p_norm, np.nan))
    method = np.where(exact, METHOD_EXACT, METHOD_NORMAL)
    reason = np.where(n >= 1, None, "no non-zero differences")
    return out.with_columns(
        pl.min_horizontal("r_plus", "r_minus").alias("statistic"),
        pl.Series("z", z),
        pl.Series("p_value", p),
        pl.Series("method", method),
        pl.Series("reason", reason.tolist(), dtype=pl.Utf8),
    )
