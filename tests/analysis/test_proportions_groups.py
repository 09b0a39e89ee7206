import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from celltrial.analysis.groups import fisher_2x2, mann_whitney
from celltrial.analysis.proportions import wilson_ci


def test_wilson_matches_statsmodels() -> None:
    count = np.array([0, 1, 6, 12, 83])
    n = np.array([16, 16, 16, 12, 218])
    lo, hi = wilson_ci(count, n)
    for c, m, a, b in zip(count, n, lo, hi, strict=True):
        ref = proportion_confint(c, m, alpha=0.05, method="wilson")
        assert (a, b) == pytest.approx(ref)


def test_wilson_n_zero_is_nan() -> None:
    lo, hi = wilson_ci(np.array([0]), np.array([0]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_mann_whitney_and_fisher_match_scipy() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(0, 1, 9), rng.normal(0.8, 1, 14)
    r = mann_whitney(x, y)
    ref = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False)  # SPSS 25
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    # Fisher by hand: [[3, 1], [1, 3]]: P(table) = C(4,3)C(4,1)/C(8,4) = 16/70; two-sided
    # sums tables as extreme (3,1), (4,0), (1,3), (0,4): (16 + 1 + 16 + 1)/70.
    f = fisher_2x2(3, 1, 1, 3)
    assert f.p_value == pytest.approx(34 / 70)


def test_degenerate_groups_give_reasons() -> None:
    assert mann_whitney(np.array([]), np.array([1.0])).reason == "a group has no values"
    assert mann_whitney(np.ones(3), np.ones(4)).reason == "all values equal"
    assert fisher_2x2(0, 0, 2, 3).reason == "a group is empty"
