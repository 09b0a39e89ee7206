"""The placebo arm of the simulator and the zang2022 preset calibrated to both arms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.simulate.allocation import msc_pattern
from celltrial.simulate.arms_check import check_arms
from celltrial.simulate.preset import load_preset
from celltrial.simulate.virtual_trials import simulate_trials


@pytest.fixture(scope="module")
def zang():
    return load_preset("zang2022")


@given(n=st.integers(1, 300), a=st.integers(1, 5), b=st.integers(1, 5))
def test_every_prefix_of_the_pattern_holds_the_ratio(n, a, b):
    arm = msc_pattern(n, a / (a + b))
    counts = np.cumsum(arm)
    k = np.arange(1, n + 1)
    assert np.array_equal(counts, (k * a) // (a + b))  # floor(k.a/(a+b)) in integers


def test_placebo_patients_lose_the_msc_effect_and_keep_the_trial_effect(zang):
    arm = msc_pattern(40, 0.5)
    both = simulate_trials(zang, 3, 40, 7, msc_arm=arm)
    none = simulate_trials(zang, 3, 40, 7, msc_arm=np.zeros(40, dtype=bool))
    full = simulate_trials(zang, 3, 40, 7)
    s_both, s_none, s_full = (x.traj.snap["s"] for x in (both, none, full))
    # same seed, same patients: a placebo patient is the same whatever the other arm gets
    np.testing.assert_array_equal(s_both[:, :, ~arm], s_none[:, :, ~arm])
    np.testing.assert_array_equal(s_both[:, :, arm], s_full[:, :, arm])
    w48 = both.design.visit_ids.index("w48")
    base = both.design.baseline
    # the trial effect is kept: placebo sensitivity rises from baseline (Zang 2022 placebo arm)
    assert np.all(s_none[w48] >= s_none[base] * (1 - 1e-6))
    assert np.median(s_none[w48] / s_none[base]) > 1.0
    # MSC responders (Emax > 0) gain sensitivity beyond placebo
    gain = s_full[w48] / s_none[w48]
    responders = full.cohort.emax_s > 0
    assert np.all(gain[responders] > 1.0)
    np.testing.assert_allclose(gain[~responders], 1.0, rtol=1e-5)
    assert not both.traj.fever[:, :, ~arm].any()  # no cell-infusion fever on placebo


def test_zang2022_arms_meet_the_published_ones(zang):
    report = check_arms(zang, 100, 20220)
    assert report.height == 8
    assert report["acceptance"].all(), report
    msc = report.filter(report["arm"] == "UC-MSC")
    pbo = report.filter(report["arm"] == "placebo")
    # the UC-MSC arm falls further than placebo, as published (1.5 vs 0.7 points)
    fall = lambda r: r["simulated"][0] - r["simulated"][1]  # noqa: E731
    assert fall(msc) > fall(pbo) + 0.4


def test_zang2022_doses_are_reviewed_from_the_first_infusion_lian_after_the_last(zang):
    from celltrial.protocol import load_protocol
    from celltrial.simulate.preset import load_preset
    from celltrial.simulate.trial import Design

    z = Design.from_protocol(load_protocol("zang2022"), zang)
    assert min(z.titration_days) == 0 + zang.titration_every_days  # infusions on days 0, 28, 56
    lian = load_preset("lian2022")
    d = Design.from_protocol(load_protocol("lian2022"), lian)
    assert min(d.titration_days) == 14 + lian.titration_every_days  # infusions on days 0, 7, 14


def test_zang2022_keeps_fasting_glucose_out_of_hypoglycaemia_at_the_visits(zang):
    """Zang 2022 reports no major adverse events (Abstract): the weekly dose review from the
    first infusion keeps FPG < 3.9 mmol/L (ADA 2024 level 1) rare at every visit."""
    sim = simulate_trials(zang, 40, 89, 3)
    low = (sim.traj.snap["fpg"] < 3.9).mean(axis=(1, 2))
    assert low.max() < 0.05, low
