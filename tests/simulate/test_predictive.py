"""The trial-by-trial predictive check: its per-trial statistics against SciPy and NumPy, the
shipped lian2022 preset inside every published range, and mis-set presets caught."""

import numpy as np
import polars as pl
import pytest
from scipy import stats

from celltrial.clinical.precision import decimals
from celltrial.simulate.calibrate import summarise
from celltrial.simulate.predictive import (
    MIN_SHARE,
    _significance_share,
    change_tests,
    check_loss,
    count_per_trial,
    descriptives,
    predictive_check,
)
from celltrial.simulate.preset import load_preset, load_targets, with_parameters
from celltrial.simulate.virtual_trials import simulate_trials

# Trials for the whole-preset check: the 2.5 % and 97.5 % points of 1,000 trials move by
# about 0.5 % in share, and the check runs in a few seconds.
TRIALS = 1000
SEED = 20220


@pytest.fixture(scope="module")
def lian():
    return load_preset("lian2022")


@pytest.fixture(scope="module")
def few(lian):
    """Six simulated trials of 16 patients, measured."""
    return summarise(simulate_trials(lian, 6, 16, 11), 11)


def _values(summary, quantity, visit):
    return summary.values[quantity][summary.visit_ids.index(visit)]


def test_batched_signed_rank_equals_scipy_trial_by_trial(few):
    pairs = [("fpg", "d14"), ("homa_ir", "d28"), ("leukocytes", "d14"), ("alt", "d84")]
    tests = change_tests(few, pairs)
    for q, v in pairs:
        # rounded to the analyte's reporting precision, as the analysis ranks changes
        analyte = {"homa_ir": "homa_cp_ir"}.get(q, q)
        d = np.round(_values(few, q, v) - _values(few, q, "d0"), decimals(analyte))
        for trial in range(d.shape[0]):
            x = d[trial][np.isfinite(d[trial])]
            got = tests.filter((pl.col("key") == f"{q}@{v}") & (pl.col("trial") == trial))
            # the paper's SPSS 25: normal approximation, tie-corrected, no continuity correction
            spss = stats.wilcoxon(x, zero_method="wilcox", method="approx", correction=False)
            assert got["statistic"][0] == pytest.approx(spss.statistic)
            assert got["p_value"][0] == pytest.approx(spss.pvalue, rel=1e-9), (q, v, trial)
            assert got["p_spss"][0] == pytest.approx(spss.pvalue, rel=1e-9), (q, v, trial)


def test_per_trial_mean_sd_and_spss_quartiles_equal_numpy(few):
    desc = descriptives(few, [("fpg", "d0"), ("homa_b", "d28")])
    for trial in range(6):
        x = _values(few, "fpg", "d0")[trial]
        row = desc.filter((pl.col("key") == "fpg@d0") & (pl.col("trial") == trial))
        assert row["mean"][0] == pytest.approx(np.mean(x), rel=1e-12)
        assert row["sd"][0] == pytest.approx(np.std(x, ddof=1), rel=1e-12)
        # SPSS's default quartiles are Hyndman-Fan type 6, NumPy's "weibull"
        q1, q3 = np.quantile(x, [0.25, 0.75], method="weibull")
        assert (row["q1"][0], row["q3"][0]) == pytest.approx((q1, q3), rel=1e-12)
        # HOMA-B(CP) = 0.27 x FCP / (FPG - 3.5), Lian 2022 L162, from the measured values
        fcp, fpg = _values(few, "fcp", "d28")[trial], _values(few, "fpg", "d28")[trial]
        keep = np.isfinite(fcp) & np.isfinite(fpg) & (fpg > 3.5)
        hb = few.values["homa_b"][few.visit_ids.index("d28")][trial]
        assert np.isfinite(hb).sum() == keep.sum()
        row = desc.filter((pl.col("key") == "homa_b@d28") & (pl.col("trial") == trial))
        want = np.median(0.27 * fcp[keep] / (fpg[keep] - 3.5))
        assert row["median"][0] == pytest.approx(want, rel=1e-12)


def test_counts_per_trial_by_hand(few):
    sim = few.sim
    assert count_per_trial(few, "male", None).tolist() == sim.cohort.male.sum(axis=1).tolist()
    fevers = [int(sim.traj.fever[:, t].sum()) for t in range(6)]
    assert count_per_trial(few, "fever_events", None).tolist() == fevers
    # a dose at most half the baseline total (in DDD units) counts as "decrement of 50 %"
    change = _values(few, "dose_change", "d84")
    want = [int(np.sum(change[t][np.isfinite(change[t])] <= -0.5 + 1e-9)) for t in range(6)]
    assert count_per_trial(few, "dose_reduced_over_50", "d84").tolist() == want


def test_significance_share_reads_the_published_outcome():
    # 4 trials: significant fall, significant rise, not significant, no change at all (NaN p)
    tests = pl.DataFrame(
        {
            "key": ["fcp@d28"] * 4,
            "trial": [0, 1, 2, 3],
            "p_spss": [0.01, 0.01, 0.30, None],
            "r_plus": [10.0, 120.0, 60.0, 0.0],
            "r_minus": [126.0, 16.0, 76.0, 0.0],
        }
    )
    row = {"quantity": "fcp", "visit": "d28"}
    assert _significance_share(tests, row | {"significant": True, "direction": "down"}, 4) == 0.25
    assert _significance_share(tests, row | {"significant": True, "direction": "up"}, 4) == 0.25
    # "no significant change": trials 2 and 3; "no significant decrease" (L289): 1, 2 and 3
    assert _significance_share(tests, row | {"significant": False}, 4) == 0.5
    no_fall = row | {"significant": False, "direction": "down"}
    assert _significance_share(tests, no_fall, 4) == 0.75


# Rows the shipped preset cannot hold under the protocol's de-escalation rule (lian2022.yaml
# `deescalate_when_stable`: never a cut while a reading is above target), with the day-14 FPG
# Q3 of 8.69 mmol/L (L182-183) also held: a quarter of the patients stay above the 7.0 target
# and are never cut, so "reduced in all patients" (L196-198) occurs in < 2.5 % of simulated
# trials (at most 14-15 of 16). Reported, not hidden: this set must stay exactly this.
KNOWN_CONFLICTS: set[tuple[str, str, str]] = set()


@pytest.mark.parametrize("seed", [SEED, 7])
def test_shipped_lian2022_holds_every_published_statistic_but_the_known_conflicts(lian, seed):
    report = predictive_check(lian, TRIALS, seed)
    targets = load_targets("lian2022")
    n_rows = (
        2 * len(targets["baseline"])
        + 3 * len(targets["quantiles"])
        + len(targets["significance"])
        + len(targets["counts"])
    )
    assert report.height == n_rows
    assert _failed(report) == KNOWN_CONFLICTS, report.filter(~pl.col("ok"))


def _failed(report: pl.DataFrame) -> set[tuple[str, str, str]]:
    return set(report.filter(~pl.col("ok")).select("kind", "quantity", "visit").iter_rows())


def test_check_fails_when_the_baseline_fpg_spread_is_halved(lian):
    spread = ("latent.lb_sd", "latent.ls_sd", "latent.ppg_log_sd")
    narrow = with_parameters(lian, {k: 0.5 * getattr(lian.latent, k[7:]) for k in spread})
    report = predictive_check(narrow, 400, SEED)
    assert ("SD", "fpg", "d0") in _failed(report)
    assert check_loss(report) > check_loss(predictive_check(lian, 400, SEED))


def test_check_fails_when_the_trial_effect_lowers_insulin_resistance(lian):
    # the issue-10 simulator: a day-14 fall carried by insulin sensitivity makes HOMA-IR(CP)
    # and ALT fall significantly at day 28 in nearly every trial (the paper: not significant)
    old = {  # the lian2022 effect parameters before issue 10
        "trial_effect.size": 0.8,
        "trial_effect.size_b": 0.0,
        "trial_effect.size_log_sd": 0.4,
        "trial_effect.offset_days": 60.0,
        "msc.emax_s": 0.6,
        "msc.emax_b": 0.7,
    }
    on_s = with_parameters(lian, old)
    report = predictive_check(on_s, 400, SEED)
    rows = report.filter(pl.col("quantity").is_in(["homa_ir", "alt"]) & (pl.col("visit") == "d28"))
    assert (rows["share"] < MIN_SHARE).all(), rows
    assert {("no significant change", "homa_ir", "d28")} <= _failed(report)


def test_check_fails_a_count_the_simulator_cannot_reach(lian):
    # nobody discontinues every agent when doses are never cut: a published 1 of 16 fails
    targets = {"counts": [{"quantity": "discontinued", "visit": "d84", "value": 1}]}
    frozen = lian.model_copy(update={"titration_every_days": 1000})
    report = predictive_check(frozen, 50, SEED, targets)
    assert report["high"][0] == 0.0 and not report["ok"][0]


def test_chin2025_directions_hold():
    report = predictive_check(load_preset("chin2025"), 10, 20250)
    directions = report.filter(pl.col("kind") == "direction")
    assert directions.height == 10
    assert directions["ok"].all(), directions
