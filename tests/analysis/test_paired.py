import itertools

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from celltrial.analysis.holm import holm
from celltrial.analysis.paired import METHOD_T, compare_with_baseline


def _values(base: np.ndarray, follow: dict[str, np.ndarray]) -> pl.DataFrame:
    rows = [pl.DataFrame({"visit_id": "d0", "value": base})]
    rows += [pl.DataFrame({"visit_id": v, "value": x}) for v, x in follow.items()]
    frames = [
        r.with_columns(
            pl.lit("fpg").alias("analyte"),
            pl.Series("participant_id", [f"p{i}" for i in range(r.height)]),
        )
        for r in rows
    ]
    return pl.concat(frames, how="diagonal")


def _walsh_median(d: np.ndarray) -> float:
    # Hodges-Lehmann: median of (d_i + d_j)/2 over i <= j, enumerated independently here.
    return float(np.median([(a + b) / 2 for a, b in itertools.combinations_with_replacement(d, 2)]))


def _untied(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    """n changes on the 0.01 grid (fpg's reporting precision) with distinct magnitudes."""
    magnitude = rng.choice(np.arange(1, 400), n, replace=False) / 100
    return magnitude * np.where(rng.random(n) < 0.5 + shift, 1.0, -1.0)


@pytest.mark.parametrize("rank_tests", ["spss", "exact"])
def test_paired_records_match_scipy_and_hand_hl(rank_tests: str) -> None:
    rng = np.random.default_rng(7)
    base = np.round(rng.normal(9.5, 2, 16), 2)
    d14, d84 = base + _untied(rng, 16, -0.3), base + _untied(rng, 16, -0.1)
    out = compare_with_baseline(
        _values(base, {"d14": d14, "d84": d84}),
        "d0",
        ["d0", "d14", "d84"],
        ["fpg"],
        rank_tests=rank_tests,
    )
    assert out.height == 4
    for visit, x in [("d14", d14), ("d84", d84)]:
        rows = out.filter(pl.col("visit_id") == visit)
        w = rows.filter(pl.col("method") != METHOD_T).row(0, named=True)
        t = rows.filter(pl.col("method") == METHOD_T).row(0, named=True)
        d = np.round(x - base, 2)  # the changes as recorded, without float noise
        if rank_tests == "exact":  # 16 untied non-zero differences: the exact test
            ref_w = stats.wilcoxon(d, method="exact")
        else:  # SPSS 25 Asymp. Sig.
            ref_w = stats.wilcoxon(d, method="approx", correction=False)
        ref_t = stats.ttest_rel(x, base)
        assert w["n_pairs"] == 16 and w["baseline_visit_id"] == "d0"
        assert w["p_value"] == pytest.approx(ref_w.pvalue, rel=1e-10)
        assert w["estimate"] == pytest.approx(_walsh_median(d))
        assert t["statistic"] == pytest.approx(ref_t.statistic)
        assert t["p_value"] == pytest.approx(ref_t.pvalue)
        ci = ref_t.confidence_interval(0.95)
        assert (t["ci_low"], t["ci_high"]) == pytest.approx((ci.low, ci.high))
        assert t["pct_change"] == pytest.approx(100 * (x.mean() - base.mean()) / base.mean())


@pytest.mark.parametrize(
    ("n", "rank_tests", "method"),
    [(16, "exact", "exact"), (16, "spss", "approx"), (70, "exact", "approx")],
)
def test_hl_ci_is_the_inversion_of_the_test(n: int, rank_tests: str, method: str) -> None:
    # The CI holds exactly the shifts mu the test does not reject: just inside a limit the
    # SciPy p-value of d - mu is >= 0.05, just outside it is < 0.05.
    rng = np.random.default_rng(n)
    base = np.round(rng.normal(8, 1, n), 2)
    d = _untied(rng, n, -0.2)
    x = base + d
    rec = compare_with_baseline(
        _values(base, {"m6": x}), "d0", ["d0", "m6"], ["fpg"], rank_tests=rank_tests
    ).row(0, named=True)
    eps = 1e-9
    for limit, inward in [(rec["ci_low"], eps), (rec["ci_high"], -eps)]:
        p_in = stats.wilcoxon(d - (limit + inward), method=method, correction=False).pvalue
        p_out = stats.wilcoxon(d - (limit - inward), method=method, correction=False).pvalue
        assert p_in >= 0.05 > p_out


def test_float_noise_does_not_break_a_tie() -> None:
    # 8.3 - 8.2 = 0.10000000000000142 and 7.1 - 7.0 = 0.09999999999999964 in floating point:
    # both are a change of 0.1 mmol/L as recorded (fpg is reported to 2 decimals), so they tie
    # (average rank 1.5 each) and the signed-rank sums equal SciPy's on the recorded changes.
    base = np.array([8.2, 7.0, 6.5, 9.0, 7.7, 8.8])
    follow = np.array([8.3, 7.1, 6.1, 8.3, 7.0, 8.0])
    assert follow[0] - base[0] != follow[1] - base[1]
    out = compare_with_baseline(_values(base, {"d14": follow}), "d0", ["d0", "d14"], ["fpg"])
    w = out.filter(pl.col("method") != METHOD_T).row(0, named=True)
    recorded = np.array([0.1, 0.1, -0.4, -0.7, -0.7, -0.8])
    ref = stats.wilcoxon(recorded, method="approx", correction=False)
    # |d| ranks: 0.1 0.1 -> 1.5 1.5, 0.4 -> 3, 0.7 0.7 -> 4.5 4.5, 0.8 -> 6: R+ = 3
    assert w["statistic"] == 3.0 == ref.statistic
    assert w["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    # without rounding the two 0.1s would rank 1 and 2: R+ stays 3 but the tie term drops
    assert w["z"] == pytest.approx((3 - 10.5) / np.sqrt((6 * 7 * 13 - (6 + 6) / 2) / 24))


def test_holm_matches_statsmodels_per_family() -> None:
    p = [0.01, 0.04, 0.03, 0.2, 0.001, 0.5, None]
    fam = ["a", "a", "a", "a", "b", "b", "b"]
    frame = pl.DataFrame({"f": fam, "p_value": p})
    got = holm(frame, ["f"]).to_list()
    ref_a = multipletests(p[:4], method="holm")[1]
    ref_b = multipletests(p[4:6], method="holm")[1]
    assert got[:4] == pytest.approx(list(ref_a))
    assert got[4:6] == pytest.approx(list(ref_b))
    assert got[6] is None


def test_degenerate_cases_give_reasons() -> None:
    base = np.array([5.0, 6.0, 7.0])
    same = _values(base, {"d28": base.copy()})
    one = _values(np.array([5.0]), {"d28": np.array([4.0])})
    for values in (same, one):
        out = compare_with_baseline(values, "d0", ["d0", "d28", "d84"], ["fpg"])
        assert out.height == 4
        assert out["reason"].null_count() == 0
        missing = out.filter(pl.col("visit_id") == "d84")
        assert missing["n_pairs"].to_list() == [0, 0]
        assert missing["reason"].to_list() == ["no pairs", "no pairs"]


def test_walsh_selection_equals_brute_force() -> None:
    from celltrial.analysis.paired import walsh_order_stat

    d = np.round(np.random.default_rng(5).normal(0, 1, 60), 1)  # rounding makes ties
    walsh = np.sort([(a + b) / 2 for a, b in itertools.combinations_with_replacement(d, 2)])
    for r in [1, 2, 17, len(walsh) // 2, len(walsh) - 3, len(walsh)]:
        assert walsh_order_stat(d, r) == pytest.approx(walsh[r - 1], abs=1e-12)


def test_large_group_path_matches_join_path() -> None:
    from celltrial.analysis.paired import hodges_lehmann
    from celltrial.analysis.wilcoxon import signed_rank

    rng = np.random.default_rng(11)
    frame = pl.DataFrame({"g": ["a"] * 40 + ["b"] * 90, "d": np.round(rng.normal(0.5, 1, 130), 2)})
    ranks = signed_rank(frame, ["g"])
    joined = hodges_lehmann(frame, ["g"], ranks).sort("g")
    selected = hodges_lehmann(frame, ["g"], ranks, join_max_n=10).sort("g")
    for col in ["hl_estimate", "hl_ci_low", "hl_ci_high"]:
        assert selected[col].to_list() == pytest.approx(joined[col].to_list(), abs=1e-12)
    # and the estimate is the median of all Walsh averages, enumerated here
    b = frame.filter(pl.col("g") == "b")["d"].to_numpy()
    assert selected["hl_estimate"][1] == pytest.approx(_walsh_median(b))


@pytest.mark.parametrize(
    "d",
    [
        np.round(np.random.default_rng(0).normal(0.3, 2, 150), 0),  # heavy ties
        np.round(np.random.default_rng(1).normal(0.3, 2, 150), 2),
        np.random.default_rng(2).normal(0, 1, 140) / 18.016,  # converted units: off any grid
        np.r_[np.random.default_rng(3).normal(0, 1, 120), 1e4, -5e3],  # far outliers
        np.full(30, 1.25),  # all equal
    ],
)
@pytest.mark.parametrize("cap", [4_000_000, 50])  # 50: brackets narrowed by sampling first
def test_walsh_order_stats_equal_brute_force(d: np.ndarray, cap: int, monkeypatch) -> None:
    from celltrial.analysis import paired
    from celltrial.analysis.paired import walsh_order_stats

    monkeypatch.setattr(paired, "WALSH_ENUMERATE_MAX", cap)
    walsh = np.sort([(a + b) / 2 for a, b in itertools.combinations_with_replacement(d, 2)])
    m = len(walsh)
    ranks = [1, 2, 99, m // 2, m // 2 + 1, m - 5, m]
    for bins in (8, 1024):  # coarse bins: wide brackets; fine: narrow
        got = walsh_order_stats(d, ranks, bins=bins)
        assert got == pytest.approx([walsh[r - 1] for r in ranks], abs=1e-12)


def test_an_infinite_difference_in_a_large_group_gives_no_estimate_not_an_error() -> None:
    # groups above WALSH_JOIN_MAX_N go through exact selection, which needs finite values
    from celltrial.analysis.paired import WALSH_JOIN_MAX_N, hodges_lehmann
    from celltrial.analysis.wilcoxon import signed_rank

    n = WALSH_JOIN_MAX_N + 10
    d = np.linspace(-1.0, 3.0, n)
    d[5] = np.inf
    diffs = pl.DataFrame({"_g": [0] * n, "d": d})
    out = hodges_lehmann(diffs, ["_g"], signed_rank(diffs, ["_g"]))
    assert out["hl_ci_low"][0] is None and np.isnan(out["hl_estimate"][0])


@pytest.mark.parametrize(
    "q",
    [
        np.random.default_rng(4).integers(-300, 300, 400),  # many ties, as rounded changes
        np.array([-7, 3, 3, 3, 12, 40]),
        np.full(9, 5),
    ],
)
def test_walsh_sums_on_a_grid_equal_brute_force(q: np.ndarray) -> None:
    from celltrial.analysis.paired import walsh_order_stats_on_grid

    sums = np.sort([a + b for a, b in itertools.combinations_with_replacement(q, 2)])
    m = len(sums)
    ranks = [1, 2, m // 3, m // 2, m // 2 + 1, m - 1, m]
    assert walsh_order_stats_on_grid(q, ranks) == [float(sums[r - 1]) for r in ranks]


def test_large_rounded_group_on_the_grid_equals_brute_force() -> None:
    # a group above WALSH_JOIN_MAX_N, rounded to fpg's 2 decimals: counted on the grid
    from celltrial.analysis.paired import WALSH_JOIN_MAX_N

    rng = np.random.default_rng(8)
    n = WALSH_JOIN_MAX_N + 200
    base = np.round(rng.normal(8, 1, n), 2)
    follow = base + np.round(rng.normal(-0.3, 0.8, n), 2)
    rec = compare_with_baseline(_values(base, {"m6": follow}), "d0", ["d0", "m6"], ["fpg"])
    d = np.round(follow - base, 2)
    d = d[d != 0]
    w = np.add.outer(d, d)[np.triu_indices(len(d))] / 2  # every Walsh average, i <= j
    assert rec["estimate"][0] == pytest.approx(np.median(w), abs=1e-12)
    # the CI limits equal those the bracket selection finds (walsh_order_stats, checked against
    # brute force above) when the group is not declared to be on a grid
    from celltrial.analysis.paired import hodges_lehmann
    from celltrial.analysis.wilcoxon import signed_rank

    frame = pl.DataFrame({"g": [0] * len(d), "d": d})
    off_grid = hodges_lehmann(frame, ["g"], signed_rank(frame, ["g"])).row(0, named=True)
    assert (rec["ci_low"][0], rec["ci_high"][0]) == pytest.approx(
        (off_grid["hl_ci_low"], off_grid["hl_ci_high"]), abs=1e-12
    )
    assert off_grid["hl_estimate"] == pytest.approx(rec["estimate"][0], abs=1e-12)
