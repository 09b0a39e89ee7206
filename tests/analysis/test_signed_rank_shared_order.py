"""The shared |d| order (one sort per group for ranks and Walsh averages) against SciPy and a
brute-force Walsh enumeration, on random grouped data with ties, zeros and tiny groups."""

import itertools

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from celltrial.analysis.paired import hodges_lehmann
from celltrial.analysis.wilcoxon import METHOD_EXACT, order_by_magnitude, signed_rank

# a group: 0 to 40 differences on a coarse grid (ties), zeros included; size 0 = all zero
groups = st.lists(
    st.lists(st.integers(-5, 5).map(lambda k: k * 0.25), min_size=1, max_size=40),
    min_size=1,
    max_size=5,
)


def _frame(data: list[list[float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"g": [i for i, xs in enumerate(data) for _ in xs], "d": [x for xs in data for x in xs]},
        schema={"g": pl.Int64, "d": pl.Float64},
    )


def _walsh(d: np.ndarray) -> np.ndarray:
    # every (d_i + d_j)/2, i <= j, enumerated by hand: Hodges & Lehmann 1963
    return np.sort([(a + b) / 2 for a, b in itertools.combinations_with_replacement(d, 2)])


@settings(max_examples=60, deadline=None)
@given(groups)
def test_ranks_from_shared_order_match_scipy(data: list[list[float]]) -> None:
    frame = _frame(data)
    out = signed_rank(frame, ["g"], order=order_by_magnitude(frame, ["g"])).sort("g")
    assert out["g"].to_list() == list(range(len(data)))
    for row, xs in zip(out.iter_rows(named=True), data, strict=True):
        d = np.array(xs)
        nz = d[d != 0]
        assert row["n"] == len(nz) and row["n_zero"] == len(d) - len(nz)
        if len(nz) == 0:
            assert np.isnan(row["p_value"])
            continue
        method = "exact" if row["method"] == METHOD_EXACT else "asymptotic"
        ref = stats.wilcoxon(d, method=method, correction=False, zero_method="wilcox")
        assert row["statistic"] == pytest.approx(ref.statistic, abs=1e-9)
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
        _, counts = np.unique(np.abs(nz), return_counts=True)
        assert row["tie_term"] == float(np.sum(counts**3 - counts))


@settings(max_examples=40, deadline=None)
@given(groups, st.sampled_from([0, 3, 10_000]))
def test_hl_from_shared_order_equals_brute_force(data: list[list[float]], join_max: int) -> None:
    # join_max 0 and 3 send (nearly) every group to per-group selection on the shared order
    frame = _frame(data)
    order = order_by_magnitude(frame, ["g"])
    ranks = signed_rank(frame, ["g"], order=order)
    shared = hodges_lehmann(frame, ["g"], ranks, join_max_n=join_max, order=order).sort("g")
    alone = hodges_lehmann(frame, ["g"], ranks, join_max_n=join_max).sort("g")
    assert shared.equals(alone)
    for row in shared.iter_rows(named=True):
        d = np.array(data[row["g"]])
        walsh = _walsh(d[d != 0])
        assert row["hl_estimate"] == pytest.approx(np.median(walsh), abs=1e-12)
        if row["hl_ci_low"] is not None:  # the k-th smallest and k-th largest, for one k
            ks = np.flatnonzero(walsh == row["hl_ci_low"])
            assert any(walsh[len(walsh) - 1 - k] == row["hl_ci_high"] for k in ks)


def test_groups_without_non_zero_differences_are_left_out_of_the_order() -> None:
    frame = _frame([[0.0, 0.0], [1.5], [-2.0, 2.0, 0.5]])
    order = order_by_magnitude(frame, ["g"])
    assert sorted(order.keys["g"].to_list()) == [1, 2]
    # |d| order within each group, by hand: [1.5] and [0.5, +-2.0]
    by_group = {
        g: np.abs(order.v[order.starts[i] : order.starts[i + 1]]).tolist()
        for i, g in enumerate(order.keys["g"].to_list())
    }
    assert by_group == {1: [1.5], 2: [0.5, 2.0, 2.0]}
