import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from celltrial.analysis.wilcoxon import METHOD_EXACT, METHOD_NORMAL, signed_rank


def _one(d: np.ndarray) -> dict:
    frame = pl.DataFrame({"g": ["a"] * len(d), "d": d})
    return signed_rank(frame, ["g"]).row(0, named=True)


@pytest.mark.parametrize("n", [1, 2, 5, 6, 13, 20, 50])
def test_exact_matches_scipy(n: int) -> None:
    d = np.random.default_rng(n).normal(0.4, 1, n)
    out = _one(d)
    ref = stats.wilcoxon(d, method="exact")
    assert out["method"] == METHOD_EXACT
    assert out["statistic"] == pytest.approx(ref.statistic)
    assert out["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_large_n_uses_normal_like_scipy() -> None:
    d = np.random.default_rng(3).normal(0.2, 1, 80)
    out = _one(d)
    ref = stats.wilcoxon(d, method="asymptotic", correction=False)
    assert out["method"] == METHOD_NORMAL
    assert out["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_ties_and_zeros_use_tie_corrected_normal_like_scipy() -> None:
    d = np.array([0.0, 0.0, 1.5, -0.5, 1.5, 2.0, 2.0, 2.0, -1.0, 3.0, 0.5, 1.0, 4.0])
    out = _one(d)
    ref = stats.wilcoxon(d, method="asymptotic", correction=False, zero_method="wilcox")
    assert out["method"] == METHOD_NORMAL
    assert out["n"] == 11 and out["n_zero"] == 2
    assert out["statistic"] == pytest.approx(ref.statistic)
    assert out["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_many_groups_at_once_match_scipy_each() -> None:
    rng = np.random.default_rng(0)
    sizes = [4, 9, 17, 60]
    frame = pl.concat(
        pl.DataFrame({"g": [f"g{i}"] * n, "d": np.round(rng.normal(0.3, 1, n), 1)})
        for i, n in enumerate(sizes)
    )
    out = signed_rank(frame, ["g"]).sort("g")
    for row in out.iter_rows(named=True):
        d = frame.filter(pl.col("g") == row["g"])["d"].to_numpy()
        method = "exact" if row["method"] == METHOD_EXACT else "asymptotic"
        ref = stats.wilcoxon(d, method=method, correction=False)
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_all_zero_differences_give_reason_not_exception() -> None:
    out = _one(np.zeros(5))
    assert out["n"] == 0 and out["n_pairs"] == 5
    assert np.isnan(out["p_value"])
    assert out["reason"] == "no non-zero differences"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-6, 6), min_size=1, max_size=30))
def test_property_matches_scipy_on_integer_data(xs: list[int]) -> None:
    d = np.array(xs, dtype=float)
    if not np.any(d != 0):
        return
    out = _one(d)
    method = "exact" if out["method"] == METHOD_EXACT else "asymptotic"
    ref = stats.wilcoxon(d, method=method, correction=False)
    assert out["p_value"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
