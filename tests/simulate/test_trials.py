"""Simulated studies: determinism, validity, protocol rules in the closed loop, calibration."""

import numpy as np
import polars as pl
import pytest

from celltrial.data import validate
from celltrial.protocol import load_protocol
from celltrial.protocol.titration import advise_insulin
from celltrial.simulate.closed_loop import Titrator
from celltrial.simulate.preset import load_preset, with_parameters
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials


@pytest.fixture(scope="module")
def lian():
    return load_preset("lian2022")


def _study(preset, seed, n=16):
    return build_study(simulate_trials(preset, 1, n, seed), 0, seed)


def test_same_seed_same_study(lian):
    a, b = _study(lian, 7), _study(lian, 7)
    for name, frame in a.tables().items():
        assert frame.equals(b.tables()[name]), name


def test_different_seed_different_study(lian):
    a, b = _study(lian, 7), _study(lian, 8)
    assert not a.measurements.equals(b.measurements)


@pytest.mark.parametrize("name,n", [("lian2022", 16), ("chin2025", 60)])
def test_simulated_study_validates_without_error(name, n):
    study = _study(load_preset(name), 3, n)
    findings = validate(study)
    assert findings.errors == 0, findings.frame.filter(pl.col("severity") == "error").head()
    for table in ("participants", "screening", "lots", "infusions", "visits", "measurements"):
        assert study.tables()[table].height > 0, table


def test_fever_only_within_24h_of_infusions_2_and_3(lian):
    study = build_study(simulate_trials(lian, 1, 200, 5), 0, 5)
    fev = study.adverse_events.filter(pl.col("term") == "Pyrexia")
    assert fev.height > 0
    joined = fev.join(study.infusions, on="infusion_id", how="left")
    assert set(joined["infusion_number"].to_list()) <= {2, 3}
    lag = (joined["onset_time"] - joined["start_time"]).dt.total_hours()
    assert ((lag >= 0) & (lag < 24)).all()


def test_closed_loop_reduces_insulin_when_fpg_low(lian):
    # strong MSC and trial effect -> low FPG -> the protocol's rules cut insulin
    strong = with_parameters(lian, {"trial_effect.size": 3.0, "msc.emax_s": 2.0})
    sim = simulate_trials(strong, 20, 16, 1)
    ins, fpg = sim.traj.snap["insulin"], sim.traj.snap["fpg"]
    on = sim.cohort.insulin0 > 0
    last = len(sim.design.visit_ids) - 1
    assert (ins[last][on] < ins[0][on]).mean() > 0.5
    # the rule applied: at the low FPG of day 28 the protocol advises a decrease or withdrawal
    rules = load_protocol("lian2022").titration
    w = sim.cohort.weight
    adv = advise_insulin(fpg[3][on], fpg[3][on] * 1.5, ins[3][on] * w[on], w[on], rules)
    low = (fpg[3][on] < rules.fpg_low) & (ins[3][on] > 0)  # still on insulin at day 28
    assert np.all(adv.action[low] != 0)


def test_titrator_follows_protocol_rules_exactly(lian):
    sim = simulate_trials(lian, 1, 16, 2)
    rules = load_protocol("lian2022").titration
    titr = Titrator(rules, allow_increase=True, regimen=lian.regimen)
    c = sim.cohort
    fpg = np.full(c.lb.shape, 3.0)  # below hypo threshold for everybody
    ins = np.where(c.insulin0 > 0, 0.5, 0.0)
    new, _, _ = titr.step(
        fpg,
        fpg * 1.5,
        ins,
        np.ones(c.lb.shape),
        c,
        np.zeros(c.lb.shape),
        np.zeros(c.lb.shape, bool),
    )
    expect = (
        advise_insulin(
            fpg * np.exp(-1.352 * 0.10),
            fpg * 1.5 * np.exp(-1.352 * 0.10),
            ins * c.weight,
            c.weight,
            rules,
        ).new_dose
        / c.weight
    )
    assert np.allclose(new, expect)


def test_simulator_uses_the_protocol_windows_unchanged(lian):
    # no private copy of the baseline window: the protocol's d0 is days -3..0 (L141, L156)
    from celltrial.simulate.trial import Design

    proto = load_protocol("lian2022")
    design = Design.from_protocol(proto, lian)
    # the paper's visits; the long-term follow-up (extension visits) is not simulated
    assert design.lower.tolist() == [v.lower_day for v in proto.trial_visits]
    assert design.upper.tolist() == [v.upper_day for v in proto.trial_visits]
    assert design.upper[design.baseline] == 0


def test_measured_insulin_is_the_choy_qss_in_pmol_per_litre(lian):
    # fasting insulin truth = (KFSI.B.(FPG - 3.5) + cross-reactivity.kappa.dose) uU/mL,
    # x 6.00 pmol/L per uU/mL (Heinemann 2010); KFSI 7.8 (Choy 2016 Table 1)
    from celltrial.simulate.measurement import glycaemic_truth

    sim = simulate_trials(lian, 2, 16, 4)
    snap, lat = sim.traj.snap, lian.latent
    by_hand = 7.8 * snap["b"] * np.maximum(snap["fpg"] - 3.5, 0.0)
    by_hand = by_hand + lat.insulin_cross_reactivity * lian.regimen.kappa * snap["insulin"]
    np.testing.assert_allclose(glycaemic_truth(sim)["fins"], 6.0 * by_hand, rtol=1e-6)


def _narrow_hba1c_protocol(low: str, high: str):
    from celltrial.protocol import parse_protocol
    from celltrial.protocol.loader import resolve

    _, text = resolve("lian2022")
    text = text.replace("    min: 7.0  #", f"    min: {low}  #").replace(
        "    max: 9.5\n", f"    max: {high}\n"
    )
    return parse_protocol(text, "narrow.yaml")


def test_short_screening_pool_is_redrawn_so_every_enrolled_patient_is_eligible(lian):
    # HbA1c 7.9-8.0 %: a few % of candidates pass, far fewer than 16 of the first 44
    proto = _narrow_hba1c_protocol("7.9", "8.0")
    sim = simulate_trials(lian, 3, 16, 5, protocol=proto)
    assert sim.eligible.all()
    hba1c = sim.screening["hba1c"]
    assert ((hba1c >= 7.9) & (hba1c <= 8.0)).all()


def test_protocol_nobody_passes_raises_with_the_shortfall(lian):
    from celltrial.simulate.virtual_trials import ScreeningShortfall

    proto = _narrow_hba1c_protocol("30.0", "30.1")  # no simulated T2D patient is there
    with pytest.raises(ScreeningShortfall, match="16 short of 16 places"):
        simulate_trials(lian, 1, 16, 5, protocol=proto)


def test_ids_and_screening_values_built_for_whole_columns(lian):
    # two sites, round-robin: A-001, B-002, A-003, ... (format written out here by hand)
    two = lian.model_copy(update={"sites": ["A", "B"]})
    sim = simulate_trials(two, 1, 12, 3)
    study = build_study(sim, 0, 3)
    want = [f"{'AB'[i % 2]}-{i + 1:03d}" for i in range(12)]
    assert study.participants["participant_id"].to_list() == want
    assert study.participants["site_id"].to_list() == [w[0] for w in want]
    hba1c = study.screening.filter(pl.col("criterion_id") == "inc_hba1c")["value"].to_list()
    assert hba1c == [f"{x:.1f}" for x in sim.screening["hba1c"][0]]
    assert study.lots["lot_id"][0] == "LOT001" and study.lots["donor_id"][0] == "DONOR001"
