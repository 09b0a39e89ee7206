"""Power analysis: batched analyses against statsmodels, Monte-Carlo power against the
analytic two-sample formula, type I error against alpha."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.proportion import proportions_ztest

from celltrial.simulate.allocation import msc_pattern
from celltrial.simulate.design import TrialDesign
from celltrial.simulate.power import TrialOutcomes, power_curve
from celltrial.simulate.trial_tests import ancova, logistic, two_proportions


def _design(kind: str = "hba1c_change_ancova", **extra) -> TrialDesign:
    data = {
        "id": "t",
        "title": "test",
        "preset": "zang2022",
        "arms": [{"id": "UC-MSC", "msc": True}, {"id": "placebo", "msc": False}],
        "n": {"start": 20, "stop": 100, "step": 40},
        "endpoint": {"kind": kind, "visit": "w48"},
        "alpha": 0.05,
    }
    return TrialDesign.model_validate(data | extra)


def test_batched_ancova_equals_statsmodels_ols_trial_by_trial():
    rng = np.random.default_rng(3)
    t, n = 6, 37
    arm = np.broadcast_to(msc_pattern(n, 0.5), (t, n))
    base = rng.normal(9.0, 1.2, (t, n))
    y = -0.6 * arm + 0.3 * (base - 9) + rng.normal(0, 0.9, (t, n))
    mask = rng.random((t, n)) > 0.15  # dropouts leave the analysis
    res = ancova(y, arm, base, mask)
    for i in range(t):  # the reference: one statsmodels fit per trial
        m = mask[i]
        x = sm.add_constant(np.column_stack([arm[i][m].astype(float), base[i][m]]))
        fit = sm.OLS(y[i][m], x).fit()
        assert res.estimate[i] == pytest.approx(fit.params[1], rel=1e-9)
        assert res.se[i] == pytest.approx(fit.bse[1], rel=1e-9)
        assert res.p_value[i] == pytest.approx(fit.pvalues[1], rel=1e-7)
        assert res.df[i] == fit.df_resid


@settings(max_examples=60, deadline=None)
@given(
    x1=st.integers(0, 40),
    x0=st.integers(0, 40),
    n1=st.integers(40, 60),
    n0=st.integers(40, 60),
)
def test_batched_two_proportions_equals_statsmodels_proportions_ztest(x1, x0, n1, n0):
    success = np.zeros((1, n1 + n0), dtype=bool)
    success[0, :x1] = True
    success[0, n1 : n1 + x0] = True
    arm = np.zeros((1, n1 + n0), dtype=bool)
    arm[0, :n1] = True
    res = two_proportions(success, arm, np.ones_like(arm))
    if x1 + x0 in (0, n1 + n0):  # no variance: no test
        assert np.isnan(res.p_value[0])
        return
    z, p = proportions_ztest([x1, x0], [n1, n0])
    assert res.statistic[0] == pytest.approx(z, rel=1e-9)
    assert res.p_value[0] == pytest.approx(p, rel=1e-7, abs=1e-300)


def _normal_source(delta: float, rho: float):
    """Normal outcome, known SD 1, baseline correlated rho, no dropout: the analytic case."""

    def source(preset, n_trials, n, seed, on):
        rng = np.random.default_rng(seed)
        arm = msc_pattern(n, 0.5)
        base = rng.standard_normal((n_trials, n))
        y = rho * base + np.sqrt(1 - rho**2) * rng.standard_normal((n_trials, n))
        y = y + (delta * arm if on else 0.0)
        return TrialOutcomes(y, base, np.ones((n_trials, n), dtype=bool), arm)

    return source


def test_power_agrees_with_the_two_sample_formula_within_monte_carlo_error():
    delta, rho, sims = 0.5, 0.6, 3000
    sizes = [40, 70, 90, 120]
    res = power_curve(_design(), sims, sizes, seed=11, source=_normal_source(delta, rho))
    # ANCOVA on a baseline correlated rho leaves residual SD sqrt(1 - rho^2) (Borm 2007)
    d = delta / np.sqrt(1 - rho**2)
    for n, p in zip(sizes, res.power, strict=True):
        exact = TTestIndPower().power(effect_size=d, nobs1=n / 2, alpha=0.05, ratio=1.0)
        mc_se = np.sqrt(exact * (1 - exact) / sims)
        assert abs(p - exact) < 3.5 * mc_se, (n, p, exact)
    # analytic total n: 82.3 for 80 %, 109.6 for 90 % (TTestIndPower.solve_power) -> 90, 120
    assert res.n_for["80%"] == 90 and res.n_for["90%"] == 120


def test_type_one_error_of_normal_outcomes_is_alpha_within_its_interval():
    sims = 4000
    res = power_curve(_design(), sims, [30, 90], seed=5, source=_normal_source(0.0, 0.5))
    for t1 in res.type1 + res.power:  # no effect in either run
        ci = binomtest(round(t1 * sims), sims, 0.05)
        assert ci.pvalue > 0.001, t1


def test_simulated_trials_type_one_error_with_the_msc_effect_off():
    """The whole simulator with the MSC effect off in both arms: ANCOVA keeps its level."""
    res = power_curve(_design(), 600, [60], seed=2)
    assert binomtest(round(res.type1[0] * 600), 600, 0.05).pvalue > 0.001
    assert res.power[0] > res.type1[0]  # the MSC effect on is detected more often


def test_power_grows_with_n_under_common_random_numbers():
    res = power_curve(_design(), 200, [20, 60, 100], seed=4)
    assert res.power[0] < res.power[1] <= res.power[2] + 0.03


def test_batched_logistic_equals_statsmodels_logit_trial_by_trial():
    rng = np.random.default_rng(8)
    t, n = 8, 80
    arm = np.broadcast_to(msc_pattern(n, 0.5), (t, n))
    base = rng.normal(9.0, 1.2, (t, n))
    logit = -1.5 + 1.0 * arm - 0.6 * (base - 9.0)
    success = rng.random((t, n)) < 1 / (1 + np.exp(-logit))
    mask = rng.random((t, n)) > 0.1
    res = logistic(success, arm, base, mask)
    for i in range(t):  # the reference: one statsmodels Logit fit per trial
        m = mask[i]
        x = sm.add_constant(np.column_stack([arm[i][m].astype(float), base[i][m]]))
        fit = sm.Logit(success[i][m].astype(float), x).fit(disp=0)
        assert res.estimate[i] == pytest.approx(fit.params[1], rel=1e-7)
        assert res.se[i] == pytest.approx(fit.bse[1], rel=1e-7)
        assert res.p_value[i] == pytest.approx(fit.pvalues[1], rel=1e-6)


def test_separated_logistic_trial_cannot_reject():
    arm = np.broadcast_to(msc_pattern(40, 0.5), (1, 40))
    success = arm.copy()  # every UC-MSC patient responds, no placebo patient: separation
    res = logistic(success, arm, np.linspace(7, 11, 40)[None], np.ones((1, 40), dtype=bool))
    assert np.isnan(res.p_value[0])
