import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from celltrial.analysis.ranking import EXACT_MAX_N, RankTestsError, check_rank_tests
from celltrial.analysis.wilcoxon import METHOD_EXACT, METHOD_NORMAL, signed_rank


def _one(d: np.ndarray, rank_tests: str = "spss") -> dict:
    frame = pl.DataFrame({"g": ["a"] * len(d), "d": d})
    return signed_rank(frame, ["g"], rank_tests=rank_tests).row(0, named=True)


def _spss(d: np.ndarray) -> float:
    """SPSS 25 Asymp. Sig. as SciPy computes it: zeros dropped, tie-corrected, uncorrected."""
    ref = stats.wilcoxon(d, method="approx", correction=False, zero_method="wilcox")
    return float(ref.pvalue)


def test_spss_worked_example_by_hand() -> None:
    # d: two zeros (dropped, SPSS "Ties"), n = 11. |d| ranked: 0.5 x2 -> 1.5, 1 x2 -> 3.5,
    # 1.5 x2 -> 5.5, 2 x3 -> 8, 3 -> 10, 4 -> 11. Negative ranks: -0.5 (1.5) + -1 (3.5) = 5,
    # positive ranks 66 - 5 = 61. E = 11 x 12 / 4 = 33; Var = 11 x 12 x 23 / 24 - sum(t^3 - t)
    # / 48 = 126.5 - (6 + 6 + 6 + 24) / 48 = 125.625. SPSS: Z = (5 - 33) / sqrt(125.625) =
    # -2.498, Asymp. Sig. (2-tailed) = 2 Phi(-2.4982) = .012 (0.0124840).
    d = np.array([0.0, 0.0, 1.5, -0.5, 1.5, 2.0, 2.0, 2.0, -1.0, 3.0, 0.5, 1.0, 4.0])
    out = _one(d)
    assert out["method"] == METHOD_NORMAL
    assert (out["n"], out["n_zero"], out["r_plus"], out["r_minus"]) == (11, 2, 61.0, 5.0)
    assert out["tie_term"] == 42.0
    assert abs(out["z"]) == pytest.approx(28 / np.sqrt(125.625), rel=1e-12)
    assert out["p_value"] == pytest.approx(0.0124840353, rel=1e-8)
    assert out["p_value"] == pytest.approx(_spss(d), rel=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 6, 13, 20, 50])
def test_spss_is_asymptotic_at_every_n(n: int) -> None:
    d = np.random.default_rng(n).normal(0.4, 1, n)
    out = _one(d)
    assert out["method"] == METHOD_NORMAL
    assert out["p_value"] == pytest.approx(_spss(d), rel=1e-10)


@pytest.mark.parametrize("n", [1, 2, 5, 6, 13, 20, 50])
def test_exact_convention_matches_scipy_exact(n: int) -> None:
    d = np.random.default_rng(n).normal(0.4, 1, n)
    out = _one(d, "exact")
    ref = stats.wilcoxon(d, method="exact")
    assert out["method"] == METHOD_EXACT
    assert out["statistic"] == pytest.approx(ref.statistic)
    assert out["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_exact_convention_drops_zeros_then_is_exact() -> None:
    # zeros do not prevent the exact test: it is the exact test of the non-zero differences
    d = np.array([0.0, 0.0, 1.1, -0.3, 2.0, 0.7, 1.6, 2.4, -0.9])
    out = _one(d, "exact")
    ref = stats.wilcoxon(d[d != 0], method="exact")
    assert out["method"] == METHOD_EXACT and out["n"] == 7
    assert out["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)


def test_exact_convention_with_ties_or_above_50_is_the_spss_test() -> None:
    tied = np.array([0.0, 0.0, 1.5, -0.5, 1.5, 2.0, 2.0, 2.0, -1.0, 3.0, 0.5, 1.0, 4.0])
    large = np.random.default_rng(3).normal(0.2, 1, EXACT_MAX_N + 1)
    for d in (tied, large):
        out = _one(d, "exact")
        assert out["method"] == METHOD_NORMAL
        assert out["p_value"] == pytest.approx(_spss(d), rel=1e-10)


def test_many_groups_at_once_match_scipy_each() -> None:
    rng = np.random.default_rng(0)
    sizes = [4, 9, 17, 60]
    frame = pl.concat(
        pl.DataFrame({"g": [f"g{i}"] * n, "d": np.round(rng.normal(0.3, 1, n), 1)})
        for i, n in enumerate(sizes)
    )
    for convention in ("spss", "exact"):
        out = signed_rank(frame, ["g"], rank_tests=convention).sort("g")
        for row in out.iter_rows(named=True):
            d = frame.filter(pl.col("g") == row["g"])["d"].to_numpy()
            method = "exact" if row["method"] == METHOD_EXACT else "approx"
            ref = stats.wilcoxon(d, method=method, correction=False)
            assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_all_zero_differences_give_reason_not_exception() -> None:
    out = _one(np.zeros(5))
    assert out["n"] == 0 and out["n_pairs"] == 5
    assert np.isnan(out["p_value"])
    assert out["reason"] == "no non-zero differences"


def test_unknown_convention_is_a_clear_error() -> None:
    with pytest.raises(RankTestsError, match="'spss' or 'exact'; got 'SPSS25'"):
        check_rank_tests("SPSS25")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-6, 6), min_size=1, max_size=30), st.sampled_from(["spss", "exact"]))
def test_property_matches_scipy_on_integer_data(xs: list[int], convention: str) -> None:
    d = np.array(xs, dtype=float)
    if not np.any(d != 0):
        return
    out = _one(d, convention)
    nz = d[d != 0]
    untied = len(np.unique(np.abs(nz))) == len(nz)
    assert (out["method"] == METHOD_EXACT) == (convention == "exact" and untied)
    exact = out["method"] == METHOD_EXACT
    ref = stats.wilcoxon(nz, method="exact").pvalue if exact else _spss(d)
    assert out["p_value"] == pytest.approx(ref, rel=1e-9, abs=1e-12)
