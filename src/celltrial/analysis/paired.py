"""Paired comparison of each visit with baseline: Wilcoxon signed-rank with the Hodges-Lehmann
estimate and its CI, the paired t-test beside it, change and percent change, Holm-adjusted p.

All computed per (group) on long frames of differences, without a Python loop per row.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import fft, stats

from celltrial.analysis.holm import holm
from celltrial.analysis.ranking import DEFAULT_RANK_TESTS, RankTests, scale_of
from celltrial.analysis.wilcoxon import (
    EXACT_MAX_N,
    METHOD_EXACT,
    MagnitudeOrder,
    order_by_magnitude,
    signed_rank,
    signrank_cdf,
)

CONF_LEVEL = 0.95
METHOD_T = "paired t-test"


def pair_with_baseline(values: pl.DataFrame, baseline_visit: str) -> pl.DataFrame:
    """Join each participant's visit value with their own baseline value of the same analyte.

    `values` has participant_id, analyte, visit_id, value (one row per participant, analyte
    and visit). Returns analyte, visit_id, participant_id, baseline, value, d = value - baseline.
    """
    base = values.filter(pl.col("visit_id") == baseline_visit).select(
        "participant_id", "analyte", pl.col("value").alias("baseline")
    )
    return (
        values.filter(pl.col("visit_id") != baseline_visit)
        .join(base, on=["participant_id", "analyte"], how="inner")
        .filter(pl.col("value").is_not_null() & pl.col("baseline").is_not_null())
        .with_columns((pl.col("value") - pl.col("baseline")).alias("d"))
    )


def _ci_order(n: np.ndarray, tie_term: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """1-based rank k of the Walsh average that is the lower 95 % limit (upper: M - k + 1).

    Exact: k = qsignrank(alpha/2, n), the smallest k with P(T+ <= k) >= alpha/2 (Hollander &
    Wolfe, Nonparametric Statistical Methods 1999, sec. 3.3; R wilcox.test). Otherwise the
    normal approximation of the same tie-corrected statistic, k = ceil(M/2 - z sd), so that the
    interval is the set of shifts the reported test does not reject. k < 1 means no interval.
    """
    alpha = 1.0 - CONF_LEVEL
    m = n * (n + 1) / 2.0
    cdf = signrank_cdf()
    n_idx = np.clip(n, 0, EXACT_MAX_N).astype(np.int64)
    k_exact = np.argmax(cdf[n_idx] >= alpha / 2.0, axis=1).astype(float)
    sd = np.sqrt(np.maximum(n * (n + 1) * (2 * n + 1) - tie_term / 2.0, 0.0) / 24.0)
    k_norm = np.ceil(m / 2.0 - stats.norm.ppf(1 - alpha / 2.0) * sd)
    return np.where(exact, k_exact, k_norm)


# Groups up to this many differences get their Walsh averages from one vectorized self-join
# (n(n+1)/2 rows, ~1.1 million at 1500); larger groups use order-statistic selection.
WALSH_JOIN_MAX_N = 1500


def walsh_order_stat(d: np.ndarray, r: int) -> float:
    """The r-th smallest (1-based) Walsh average (d_i + d_j)/2, i <= j, without forming all
    n(n+1)/2 of them: bisection on the value t, counting sums <= 2t with a sorted search
    (O(n log n) per step), then the largest Walsh sum not above the final bound."""
    x = np.sort(np.asarray(d, dtype=float))
    idx = np.arange(len(x))

    def count(limit: float) -> int:  # number of pairs i <= j with x_i + x_j <= limit
        return int(np.maximum(np.searchsorted(x, limit - x, side="right") - idx, 0).sum())

    lo, hi = 2 * x[0] - 1.0, 2 * x[-1]  # count(lo) = 0 < r <= count(hi) = M
    while True:  # ends at adjacent floats (at most ~2100 halvings, about 64 in practice)
        mid = lo / 2 + hi / 2
        if not lo < mid < hi:
            break
        lo, hi = (lo, mid) if count(mid) >= r else (mid, hi)
    j = np.searchsorted(x, hi - x, side="right") - 1
    ok = j >= idx
    return float(np.max(x[ok] + x[j[ok]]) / 2.0)


# Order statistics of the n(n+1)/2 Walsh sums, exactly, in O(n log n + B log B): a histogram
# of the differences on B bins, self-convolved by FFT, brackets the wanted sum between two
# bin edges (x_i + x_j lies within 2 bin widths of the sum of their bin indices); the sums in
# the bracket are then counted and enumerated exactly and the one of the wanted rank selected.
# B about 2n bins (a power of two, at most 2^17): brackets of ~n sums for smooth data, and the
# FFT stays a few milliseconds; tied data fill brackets whatever B is.
WALSH_MAX_BINS = 1 << 17
WALSH_ENUMERATE_MAX = 500_000  # sums enumerated at once (4 MB); fuller brackets are narrowed


@dataclass(frozen=True)
class _Bracket:
    """The Walsh sums lo < x_i + x_j <= hi (i <= j): per row i the first column and the
    number of columns, and how many sums lie at or below lo and at or below hi."""

    start: np.ndarray
    cnt: np.ndarray
    below: int
    upto: int

    def holds(self, r: int) -> bool:
        return self.below < r <= self.upto


def _first_above(x: np.ndarray, idx: np.ndarray, limit: float) -> np.ndarray:
    """max(searchsorted(x, limit - x, side="right"), idx), searching only the rows that need it.
    q = limit - x falls as x rises, so rows with q_i >= x[-1] (all n columns) lead, and rows
    with x_i > q_i (none from column i on: the answer is i) trail; only those between search."""
    q = limit - x
    lead = int(np.count_nonzero(q >= x[-1]))
    trail = int(np.count_nonzero(x <= q))
    out = idx.copy()
    out[:lead] = len(x)
    out[lead:trail] = np.maximum(np.searchsorted(x, q[lead:trail], side="right"), idx[lead:trail])
    return out


def _bracket(x: np.ndarray, idx: np.ndarray, lo: float, hi: float) -> _Bracket:
    """Two sorted searches give both the bracket's rows and its exact counts (walsh_order_stat
    counts the same way: x_j <= limit - x_i)."""
    start = _first_above(x, idx, lo)
    stop = _first_above(x, idx, hi)
    below = int((start - idx).sum())
    return _Bracket(start, stop - start, below, below + int((stop - start).sum()))


def _sums_in(x: np.ndarray, idx: np.ndarray, br: _Bracket) -> np.ndarray:
    """Every Walsh sum inside the bracket."""
    rows = np.repeat(idx, br.cnt)
    first = np.repeat(np.cumsum(br.cnt) - br.cnt, br.cnt)
    cols = br.start[rows] + (np.arange(len(rows)) - first)
    return x[rows] + x[cols]


_NARROW_SAMPLE = 4096  # sums drawn from a too-full bracket to narrow it
_NARROW_MARGIN = 128  # sample ranks either side of the target (~8 SD of the sample quantile)
_NARROW_STEPS = 8


def _narrow(x: np.ndarray, idx: np.ndarray, r: int, br: _Bracket) -> _Bracket | float:
    """Shrink a bracket holding rank r until it can be enumerated: sample sums inside it,
    bracket the target's sample quantile, count exactly. Returns a value instead when rank r
    falls on a tied sum (common with rounded values)."""
    rng = np.random.default_rng(r)  # any draw gives the same exact answer; seeded anyway
    margin = _NARROW_MARGIN
    for _ in range(_NARROW_STEPS):  # each step keeps ~2 x 128 / 4096 of the bracket
        if br.upto - br.below <= WALSH_ENUMERATE_MAX:
            break
        ends = np.cumsum(br.cnt)
        u = rng.integers(0, ends[-1], _NARROW_SAMPLE)
        row = np.searchsorted(ends, u, side="right")
        sample = np.sort(x[row] + x[br.start[row] + u - (ends[row] - br.cnt[row])])
        t = int((r - br.below) / (br.upto - br.below) * _NARROW_SAMPLE)
        a = float(sample[max(t - margin, 0)])
        b = float(sample[min(t + margin, _NARROW_SAMPLE - 1)])
        # sums of rounded values tie up to float noise (x_i + x_j vs limit - x_i): step a
        # relative 1e-9 (of the data's scale) outside the window: tied clusters count whole
        tol = 1e-9 * (abs(a) + abs(b) + abs(x[0]) + abs(x[-1]))
        candidate = _bracket(x, idx, a - tol, b + tol)
        if not candidate.holds(r):  # the window missed (ties at its edge): draw again, wider
            margin *= 4
            continue
        if b - a <= tol:
            return a / 2.0  # rank r is one of the copies of this tied sum
        br, margin = candidate, _NARROW_MARGIN
    return br


def _bin_counts(x: np.ndarray, bins: int) -> tuple[np.ndarray, float, float]:
    """Cumulative count of pairs i <= j by the sum of their bin indices; bin origin, width."""
    low, width = float(x[0]), (float(x[-1]) - float(x[0])) / bins
    if not width > 0:
        return np.array([len(x) * (len(x) + 1) / 2.0]), low, 0.0
    q = np.minimum(((x - low) / width).astype(np.int64), bins - 1)
    h = np.bincount(q, minlength=bins).astype(float)
    size = 2 * bins - 1
    nfft = int(fft.next_fast_len(size, real=True))
    spectrum = np.fft.rfft(h, nfft)
    ordered = np.rint(np.fft.irfft(spectrum * spectrum, nfft)[:size])  # (i, j) and (j, i)
    ordered[::2] += h  # i = j counted once more, at index 2 q_i
    return np.cumsum(ordered / 2.0), low, width


def walsh_order_stats(d: np.ndarray, ranks: list[int], bins: int | None = None) -> list[float]:
    """The r-th smallest (1-based) Walsh average (d_i + d_j)/2, i <= j, for each r in ranks."""
    x = np.asarray(d, dtype=float)
    if not np.all(x[1:] >= x[:-1]):  # callers often pass sorted data: skip the sort then
        x = np.sort(x)
    bins = bins or min(WALSH_MAX_BINS, 1 << max(10, int(np.ceil(np.log2(2 * len(x) + 1)))))
    idx = np.arange(len(x))
    cum, low, width = _bin_counts(x, bins)
    out: dict[int, float] = {}
    for r in ranks:  # one step per wanted order statistic (3 or 4 per group)
        if r in out:  # found with a neighbour (the two middle ranks share a bracket)
            continue
        k = int(np.searchsorted(cum, r, side="left"))  # first bin-sum index holding rank r
        lo, hi = 2 * low + width * k, 2 * low + width * (k + 2)
        slack = 1e-9 * (abs(lo) + abs(hi) + width)
        br = _bracket(x, idx, float(np.nextafter(lo - slack, -np.inf)), hi + slack)
        if br.holds(r) and br.upto - br.below > WALSH_ENUMERATE_MAX:
            narrowed = _narrow(x, idx, r, br)
            if isinstance(narrowed, float):
                out[r] = narrowed
                continue
            br = narrowed
        if not br.holds(r) or br.upto - br.below > WALSH_ENUMERATE_MAX:
            out[r] = walsh_order_stat(d, r)  # bracket missed or too full: bisection
            continue
        inside = [q for q in ranks if br.holds(q) and q not in out]
        picked = np.partition(_sums_in(x, idx, br), [q - br.below - 1 for q in inside])
        out.update({q: float(picked[q - br.below - 1]) / 2.0 for q in inside})
    return [out[r] for r in ranks]


# Differences on a grid of step 1/scale (rounded to the reporting precision) have integer
# Walsh sums in grid units: one FFT self-convolution of their histogram counts the pairs at
# every sum exactly, up to this many grid steps between the smallest and largest difference.
WALSH_GRID_MAX_BINS = 1 << 21


def walsh_order_stats_on_grid(q: np.ndarray, ranks: list[int]) -> list[float] | None:
    """The r-th smallest (1-based) Walsh sum q_i + q_j, i <= j, of integers q, for each r in
    ranks; None when their range exceeds WALSH_GRID_MAX_BINS. Pair counts per sum come from
    the histogram convolved with itself (ordered pairs, the i = j pairs added once more, then
    halved), each exact after rounding: the FFT error is ~1e-16 of n^2 (< 0.5 for n < 10^7)."""
    low = int(q.min())
    width = int(q.max()) - low + 1
    if width > WALSH_GRID_MAX_BINS:
        return None
    h = np.bincount(q - low, minlength=width).astype(float)
    size = 2 * width - 1
    nfft = int(fft.next_fast_len(size, real=True))
    spectrum = np.fft.rfft(h, nfft)
    ordered = np.rint(np.fft.irfft(spectrum * spectrum, nfft)[:size])
    ordered[::2] += h  # i = j pairs, at index 2 (q_i - low)
    cum = np.cumsum(ordered / 2.0)  # pairs i <= j with sum at most 2 low + index: integers
    at = np.searchsorted(cum, np.asarray(ranks, dtype=float), side="left")
    return [float(2 * low + i) for i in at]


def _hl_one_group(
    d: np.ndarray, m: int, k: int, scale: float | None = None
) -> tuple[float, float | None, float | None]:
    """HL estimate and CI limits of one group: Walsh averages of ranks (m+1)/2, k, m-k+1.
    `scale`: d lies on the grid of step 1/scale (counted there, exactly). An infinite
    difference (not possible in validated data) gives no estimate, not an error."""
    if not np.isfinite(d).all():
        return float("nan"), None, None
    mid = [(m + 1) // 2] if m % 2 else [m // 2, m // 2 + 1]
    ok = 1 <= k <= m - k + 1
    wanted = [*mid, *([k, m - k + 1] if ok else [])]
    sums = None if scale is None else walsh_order_stats_on_grid(_grid_units(d, scale), wanted)
    on_grid = sums is not None
    found = [x / (2.0 * scale) for x in sums] if on_grid else walsh_order_stats(d, wanted)
    est = float(np.mean(found[: len(mid)]))
    return est, (found[len(mid)] if ok else None), (found[len(mid) + 1] if ok else None)


def _grid_units(d: np.ndarray, scale: float) -> np.ndarray:
    """d in grid units (integers): d was rounded as round(d x scale) / scale, which rint
    inverts exactly (the product is within an ulp of the integer)."""
    return np.rint(d * scale).astype(np.int64)


def _d_order(v: np.ndarray) -> np.ndarray:
    """One group's differences from |d| order to d order (sorted): in |d| order the negatives
    run from 0 down, so they come reversed, then the positives as they are."""
    return np.concatenate([v[v < 0][::-1], v[v > 0]])


def _hl_by_selection(
    keys: pl.DataFrame,
    samples: list[np.ndarray],
    by: list[str],
    prepare: Callable[[np.ndarray], np.ndarray] = np.asarray,
) -> pl.DataFrame:
    """HL estimate and CI limits for the few large groups (row i of `keys`: `by`, _m, _k; its
    differences prepare(samples[i])), one task per group. The groups run on a thread pool: the
    work is NumPy sorting, searching and FFT, which release the GIL."""
    ks = keys["_k"].cast(pl.Int64).to_list()
    jobs = list(zip(samples, keys["_m"].to_list(), ks, keys["_scale"].to_list(), strict=True))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        found = list(pool.map(lambda job: _hl_one_group(prepare(job[0]), *job[1:]), jobs))
    schema = {
        **{b: keys.schema[b] for b in by},
        "hl_estimate": pl.Float64,
        "hl_ci_low": pl.Float64,
        "hl_ci_high": pl.Float64,
    }
    rows = [(*key, *f) for key, f in zip(keys.select(by).iter_rows(), found, strict=True)]
    return pl.DataFrame(rows, schema=schema, orient="row")


def _large_from_frame(
    nz: pl.DataFrame, by: list[str], large: pl.DataFrame
) -> tuple[pl.DataFrame, list[np.ndarray]]:
    """The large groups' keys and differences, split from the frame."""
    parts = nz.join(large, on=by, how="inner").partition_by(by, maintain_order=True)
    keys = pl.concat([p.select(*by, "_m", "_k", "_scale").head(1) for p in parts])
    return keys, [p["d"].to_numpy() for p in parts]


def _large_from_order(
    order: MagnitudeOrder, by: list[str], large: pl.DataFrame
) -> tuple[pl.DataFrame, list[np.ndarray]]:
    """The large groups' keys and differences (in |d| order), sliced from the shared order."""
    keys = order.keys.with_row_index("_row").join(large, on=by, how="inner")
    v, starts = order.v, order.starts
    return keys, [v[starts[r] : starts[r + 1]] for r in keys["_row"].to_list()]


def _hl_by_join(nz: pl.DataFrame, by: list[str], orders: pl.DataFrame) -> pl.DataFrame:
    """HL estimate and CI limits for many small groups at once, from all Walsh averages."""
    nz = nz.with_columns(pl.int_range(pl.len()).over(by).alias("_i"))
    walsh = (
        nz.join(nz, on=by, suffix="_r")
        .filter(pl.col("_i") <= pl.col("_i_r"))
        .select(*by, ((pl.col("d") + pl.col("d_r")) / 2.0).alias("w"))
    )
    w = pl.col("w").sort()
    lo = pl.col("_k").first().cast(pl.Int64)
    hi = pl.col("_m").first() - lo + 1
    ok = (lo >= 1) & (lo <= hi)
    last = pl.col("_m").first() - 1  # both branches of when/then are evaluated: stay in bounds
    return (
        walsh.join(orders, on=by, how="inner")
        .group_by(by)
        .agg(
            pl.col("w").median().alias("hl_estimate"),
            pl.when(ok).then(w.get((lo - 1).clip(0, last))).alias("hl_ci_low"),
            pl.when(ok).then(w.get((hi - 1).clip(0, last))).alias("hl_ci_high"),
        )
    )


def hodges_lehmann(
    diffs: pl.DataFrame,
    by: list[str],
    ranks: pl.DataFrame,
    join_max_n: int = WALSH_JOIN_MAX_N,
    order: MagnitudeOrder | None = None,
    scales: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Hodges-Lehmann estimate (median of Walsh averages) and its 95 % CI per group.

    `ranks` is the output of signed_rank for the same groups (n, tie term, and whether its
    p-value was exact: the CI inverts the same test). Zero differences are dropped, as in the
    test (R wilcox.test does the same). The CI limits are the k-th smallest and k-th largest
    Walsh averages (k from _ci_order). `order`: order_by_magnitude(diffs, by) if the caller
    has it (the large groups are sliced from it). `scales`: `by` and _scale, for groups whose
    differences were rounded to a grid of step 1/_scale (their Walsh averages are counted on
    the grid: walsh_order_stats_on_grid).
    """
    exact = ranks.select(*by, "n", "tie_term", (pl.col("method") == METHOD_EXACT).alias("_ex"))
    k = _ci_order(
        exact["n"].to_numpy().astype(float),
        exact["tie_term"].to_numpy().astype(float),
        exact["_ex"].to_numpy(),
    )
    orders = exact.select(*by, "n").with_columns(pl.Series("_k", k))
    orders = orders.with_columns((pl.col("n") * (pl.col("n") + 1) // 2).alias("_m"))
    large = orders.filter(pl.col("n") > join_max_n).select(*by, "_m", "_k")
    if scales is None:
        large = large.with_columns(pl.lit(None, pl.Float64).alias("_scale"))
    else:
        large = large.join(scales.select(*by, "_scale"), on=by, how="left")
    small = orders.filter((pl.col("n") >= 1) & (pl.col("n") <= join_max_n))
    nz = diffs.lazy().filter(pl.col("d").is_not_null() & ~pl.col("d").is_nan() & (pl.col("d") != 0))
    nz = nz.select(*by, "d")  # lazy: with `order` and only large groups it is never needed
    parts: list[pl.DataFrame] = []
    if small.height or not large.height:  # many small groups: all Walsh averages at once
        parts.append(_hl_by_join(nz.join(large.lazy(), on=by, how="anti").collect(), by, orders))
    if large.height:
        if order is None:
            parts.append(_hl_by_selection(*_large_from_frame(nz.collect(), by, large), by))
        else:
            keys, samples = _large_from_order(order, by, large)
            parts.append(_hl_by_selection(keys, samples, by, prepare=_d_order))
    return pl.concat(parts, how="vertical_relaxed")


def paired_t(diffs: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Paired t-test of mean(d) = 0 per group, with the 95 % CI of the mean difference."""
    agg = diffs.group_by(by).agg(
        pl.col("d").len().alias("n_pairs"),
        pl.col("d").mean().alias("mean_d"),
        pl.col("d").std(ddof=1).alias("sd_d"),
    )
    n = agg["n_pairs"].to_numpy().astype(float)
    mean = agg["mean_d"].to_numpy().astype(float)
    sd = agg["sd_d"].fill_null(np.nan).to_numpy().astype(float)
    df = n - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        se = sd / np.sqrt(n)
        t = np.where((n >= 2) & (se > 0), mean / se, np.nan)
        p = 2.0 * stats.t.sf(np.abs(t), df)
        half = stats.t.ppf(0.5 + CONF_LEVEL / 2.0, df) * se
    reason = np.where(
        n < 2, "fewer than 2 pairs", np.where(~(se > 0), "all differences equal", None)
    )
    return agg.with_columns(
        pl.Series("t", t),
        pl.Series("df", np.where(n >= 2, df, np.nan)),
        pl.Series("p_t", p),
        pl.Series("t_ci_low", np.where(n >= 2, mean - half, np.nan)),
        pl.Series("t_ci_high", np.where(n >= 2, mean + half, np.nan)),
        pl.Series("t_reason", reason.tolist(), dtype=pl.Utf8),
    )


# The change columns every paired record carries (made by _changes).
CHANGE_COLUMNS = (
    "baseline_mean",
    "baseline_median",
    "visit_mean",
    "visit_median",
    "mean_change",
    "median_change",
    "pct_change",
    "median_pct_change",
)


def _changes(pairs: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    pct = 100.0 * pl.col("d") / pl.col("baseline")
    return pairs.group_by(by).agg(
        pl.col("baseline").mean().alias("baseline_mean"),
        pl.col("baseline").median().alias("baseline_median"),
        pl.col("value").mean().alias("visit_mean"),
        pl.col("value").median().alias("visit_median"),
        pl.col("d").mean().alias("mean_change"),
        pl.col("d").median().alias("median_change"),
        # percent change of the means (Chin 2025 reports change relative to baseline)
        (100.0 * pl.col("d").mean() / pl.col("baseline").mean()).alias("pct_change"),
        pct.filter(pl.col("baseline") != 0).median().alias("median_pct_change"),
    )


def compare_with_baseline(
    values: pl.DataFrame,
    baseline_visit: str,
    visits: list[str],
    analytes: list[str],
    subgroup: str = "all",
    pairs: pl.DataFrame | None = None,
    rank_tests: RankTests = DEFAULT_RANK_TESTS,
) -> pl.DataFrame:
    """Every follow-up visit against baseline, per analyte: one record per (analyte, visit, test).

    Tests: Wilcoxon signed-rank (estimate = Hodges-Lehmann median change with its 95 % CI) and
    the paired t-test (estimate = mean change, 95 % CI). p_holm is Holm-adjusted within each
    (subgroup, analyte, test) family over the follow-up visits. Groups without pairs give a
    record with n_pairs = 0 and a reason instead of an exception. `pairs`: the output of
    pair_with_baseline(values, baseline_visit) if the caller has it already. The signed-rank
    test and the Hodges-Lehmann estimate use the changes rounded to the analyte's reporting
    precision (ties as recorded, celltrial.analysis.ranking) and the `rank_tests` convention;
    the t-test and the change columns use the changes as computed.
    """
    follow = [v for v in visits if v != baseline_visit]
    grid = pl.DataFrame({"analyte": analytes}).join(
        pl.DataFrame({"visit_id": follow}, schema={"visit_id": pl.Utf8}), how="cross"
    )
    wanted = pl.col("analyte").is_in(analytes)
    if pairs is None:
        pairs = pair_with_baseline(values.filter(wanted), baseline_visit)
    pairs = pairs.filter(wanted & pl.col("visit_id").is_in(follow))
    # every per-group step works on one integer group key: hashing two strings per row in
    # each of the group_bys below costs more than all the statistics
    pairs = pairs.with_columns(group_key(analytes, follow))
    grid = grid.with_columns(group_key(analytes, follow))
    g = ["_g"]
    rounded = changes_at_precision(pairs, analytes, follow)
    order = order_by_magnitude(rounded, g)  # one sort per group serves ranks and Walsh averages
    ranks = signed_rank(rounded, g, order=order, rank_tests=rank_tests)
    hl = hodges_lehmann(rounded, g, ranks, order=order, scales=grid_scales(analytes, follow))
    tt = paired_t(pairs, g)
    ch = _changes(pairs, g)
    wide = (
        grid.join(ranks.drop("n_pairs"), on=g, how="left")
        .join(hl, on=g, how="left")
        .join(tt, on=g, how="left")
        .join(ch, on=g, how="left")
        .drop("_g")
        .with_columns(pl.col("n_pairs").fill_null(0).cast(pl.Int64))
    )
    return _to_records(wide, baseline_visit, subgroup, analytes, follow)


def group_key(analytes: list[str], visits: list[str]) -> pl.Expr:
    """One integer per (analyte, visit_id), from their positions in the two lists (Enum
    codes: the same in every frame, unlike categorical codes)."""
    a = pl.col("analyte").cast(pl.Enum(list(dict.fromkeys(analytes)))).to_physical()
    v = pl.col("visit_id").cast(pl.Enum(list(dict.fromkeys(visits)))).to_physical()
    return (a.cast(pl.UInt64) * len(visits) + v.cast(pl.UInt64)).alias("_g")


def grid_scales(analytes: list[str], visits: list[str]) -> pl.DataFrame:
    """_g (group_key(analytes, visits)) and _scale, 10^decimals of the analyte's reporting
    precision (ranking.scale_of)."""
    per_analyte = [scale_of(a) for a in dict.fromkeys(analytes)]
    scale = np.repeat(per_analyte, len(visits))
    return pl.DataFrame(
        {"_g": np.arange(len(scale), dtype=np.uint64), "_scale": scale},
        schema={"_g": pl.UInt64, "_scale": pl.Float64},
    )


def changes_at_precision(
    pairs: pl.DataFrame, analytes: list[str], visits: list[str]
) -> pl.DataFrame:
    """_g and d rounded to each analyte's reporting precision (half to even), the scale
    gathered by the integer group key of group_key(analytes, visits): ties as recorded, for
    the signed-rank test and the Hodges-Lehmann estimate."""
    s = pl.lit(grid_scales(analytes, visits)["_scale"]).gather(pl.col("_g"))
    return pairs.select("_g", ((pl.col("d") * s).round(0) / s).alias("d"))


def _to_records(
    wide: pl.DataFrame, baseline: str, subgroup: str, analytes: list[str], follow: list[str]
) -> pl.DataFrame:
    common = [
        "analyte",
        "visit_id",
        pl.lit(baseline).alias("baseline_visit_id"),
        pl.lit(subgroup).alias("subgroup"),
        "n_pairs",
        *CHANGE_COLUMNS,
    ]
    no_pairs = pl.when(pl.col("n_pairs") == 0).then(pl.lit("no pairs"))
    wil = wide.select(
        *common,
        pl.col("method").fill_null(pl.lit("wilcoxon signed-rank")),
        pl.col("statistic").cast(pl.Float64),
        "z",
        "p_value",
        pl.col("hl_estimate").alias("estimate"),
        pl.col("hl_ci_low").alias("ci_low"),
        pl.col("hl_ci_high").alias("ci_high"),
        no_pairs.otherwise(pl.col("reason")).alias("reason"),
        pl.lit("wilcoxon").alias("_family"),
    )
    wil = wil.with_columns(
        pl.when(pl.col("reason").is_null() & pl.col("ci_low").is_null())
        .then(pl.lit("too few pairs for a 95 % CI"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )
    tt = wide.select(
        *common,
        pl.lit(METHOD_T).alias("method"),
        pl.col("t").alias("statistic"),
        pl.lit(None, pl.Float64).alias("z"),
        pl.col("p_t").alias("p_value"),
        pl.col("mean_d").alias("estimate"),
        pl.col("t_ci_low").alias("ci_low"),
        pl.col("t_ci_high").alias("ci_high"),
        no_pairs.otherwise(pl.col("t_reason")).alias("reason"),
        pl.lit("t").alias("_family"),
    )
    out = pl.concat([wil, tt], how="vertical_relaxed")
    out = out.with_columns(holm(out, ["subgroup", "analyte", "_family"]))
    a_order = {a: i for i, a in enumerate(analytes)}
    v_order = {v: i for i, v in enumerate(follow)}
    return (
        out.with_columns(
            pl.col("analyte").replace_strict(a_order, default=None).alias("_a"),
            pl.col("visit_id").replace_strict(v_order, default=None).alias("_v"),
        )
        .sort("_a", "_v", "_family", descending=[False, False, True])
        .drop("_a", "_v", "_family")
    )
