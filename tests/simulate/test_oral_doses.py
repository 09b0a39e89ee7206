"""Oral agents of the simulator: catalogue look-ups and real (labelled) doses only."""

import numpy as np
import polars as pl
import pytest

from celltrial.clinical.drugs import get_drug
from celltrial.simulate.closed_loop import at_lowest_dose, lowest_oral_fraction
from celltrial.simulate.preset import OralDrug, PresetError, load_preset, with_parameters
from celltrial.simulate.study import build_study
from celltrial.simulate.treatment import real_dose_mg
from celltrial.simulate.virtual_trials import simulate_trials


def test_preset_drugs_take_atc_class_and_ddd_from_the_catalogue():
    oral = {d.drug: d for d in load_preset("lian2022").regimen.oral}
    # WHOCC ATC/DDD index: metformin A10BA02, DDD 2 g; gliclazide (MR) A10BB09, DDD 60 mg
    assert (oral["metformin"].atc_code, oral["metformin"].ddd_mg) == ("A10BA02", 2000)
    assert (oral["gliclazide"].atc_code, oral["gliclazide"].drug_class) == (
        "A10BB09",
        "sulfonylurea",
    )


def test_preset_refuses_unknown_drug_and_dose_outside_the_label():
    with pytest.raises(ValueError, match="unknown drug"):
        OralDrug(drug="metformine", fraction=0.5, dose_mg=1000)
    with pytest.raises(ValueError, match="outside its labelled daily dose"):
        OralDrug(drug="gliclazide", fraction=0.5, dose_mg=15)  # Diamicron MR: 30-120 mg
    with pytest.raises(ValueError, match="oral"):
        OralDrug(drug="liraglutide", fraction=0.5, dose_mg=1.2)  # injectable GLP-1


@pytest.mark.parametrize(
    ("drug", "wanted", "real"),
    [
        ("metformin", 1005.0, 1000.0),  # tablets of 500 mg (Glucophage: 500-2550 mg/day)
        ("metformin", 673.0, 500.0),
        ("metformin", 375.0, 500.0),  # never below the lowest labelled dose
        ("metformin", 3000.0, 2500.0),  # never above 2550: five 500 mg steps
        ("gliclazide", 15.0, 30.0),  # MR 30 mg is the lowest (Diamicron MR SmPC)
        ("gliclazide", 40.0, 30.0),
        ("sitagliptin", 67.0, 75.0),  # 25 mg steps
        ("acarbose", 0.0, 0.0),  # not taking it stays 0
    ],
)
def test_real_dose_is_a_labelled_step(drug: str, wanted: float, real: float):
    d = next(o for o in load_preset("lian2022").regimen.oral if o.drug == drug)
    assert float(real_dose_mg(d, np.array(wanted))) == real


def test_lowest_fraction_is_where_the_first_agent_reaches_its_label_minimum():
    reg = load_preset("lian2022").regimen
    names = [d.drug for d in reg.oral]
    x0 = np.zeros((len(names), 1, 3))
    x0[names.index("metformin"), 0, :2] = 0.75  # 1500 mg: lowest 500 -> 1/3
    x0[names.index("gliclazide"), 0, 1] = 1.0  # 60 mg: lowest 30 -> 1/2
    x0[names.index("sitagliptin"), 0, 2] = 1.0  # 100 mg: lowest 25 -> 1/4
    np.testing.assert_allclose(lowest_oral_fraction(reg, x0), [[1 / 3, 0.5, 0.25]])
    # x 0.45: metformin 675 -> 500 mg (lowest); gliclazide 27 -> 30 mg (lowest);
    # sitagliptin 45 -> 50 mg, above its lowest 25 mg
    frac = np.array([[0.45, 0.45, 0.45]])
    assert at_lowest_dose(reg, x0, frac).tolist() == [[True, True, False]]


def test_simulated_prescriptions_use_only_labelled_doses():
    # strong effects: most patients de-escalate several steps, many to the lowest dose
    preset = with_parameters(load_preset("lian2022"), {"trial_effect.size": 2.0, "msc.emax_s": 1.5})
    study = build_study(simulate_trials(preset, 1, 200, 11), 0, 11)
    oral = study.medications.filter(pl.col("dose_unit") == "mg")
    assert oral.height > 200
    for (name,), rows in oral.group_by("drug"):
        d = get_drug(str(name))
        dose = rows["daily_dose"].to_numpy()
        assert dose.min() >= d.min_daily and dose.max() <= d.max_daily, name
        steps = dose / d.min_daily
        np.testing.assert_allclose(steps, np.round(steps), err_msg=str(name))
        assert rows["atc_code"].unique().to_list() == [d.atc]
    # reductions really happened (more than one dose per drug)
    assert oral.group_by("drug").agg(pl.col("daily_dose").n_unique())["daily_dose"].max() > 1


def test_unknown_insulin_is_a_preset_error(tmp_path):
    text = load_preset("lian2022").model_dump_json()  # a JSON document is valid YAML
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('"insulin glargine"', '"insulin nonsense"'))
    with pytest.raises(PresetError, match="unknown drug"):
        load_preset(bad)


def test_at_lowest_dose_matches_the_real_doses_everywhere():
    # the shortcut (wanted < 1.5 lowest doses) against the definition: real dose == lowest
    from celltrial.simulate.treatment import oral_mg

    reg = load_preset("lian2022").regimen
    rng = np.random.default_rng(3)
    x0 = np.where(rng.random((len(reg.oral), 4, 500)) < 0.5, 1.0, 0.0)
    x0 *= np.array([d.dose_mg / d.ddd_mg for d in reg.oral])[:, None, None]
    frac = rng.uniform(0.0, 1.0, (4, 500))
    lowest = np.array([d.min_mg for d in reg.oral])[:, None, None]
    by_definition = np.all((x0 <= 0) | (oral_mg(reg, x0, frac) <= lowest), axis=0)
    assert (at_lowest_dose(reg, x0, frac) == by_definition).all()
