from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from celltrial.clinical.derivations import (
    MissingColumnsError,
    ckd_stage_expr,
    derive_bmi,
    derive_ckd_stage,
    derive_dose_per_kg,
    derive_eag,
    derive_egfr,
    derive_hba1c_ifcc,
    derive_homa1,
    derive_homa_cp,
    derive_insulin_u_per_kg,
    derive_study,
)
from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData, StudyMeta

T0 = datetime(2024, 3, 1, 8, 0)
T1 = datetime(2024, 3, 1, 8, 30)
T2 = datetime(2024, 3, 15, 8, 0)


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    schema = TABLES[table].polars_schema
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def _m(pid, visit, time, analyte, value, unit, fasting=True, source="lab"):
    return dict(
        participant_id=pid, visit_id=visit, time=time, analyte=analyte, value=value,
        unit=unit, fasting=fasting, source=source,
    )  # fmt: skip


def _values(frame: pl.DataFrame, analyte: str) -> dict:
    rows = frame.filter(pl.col("analyte") == analyte).sort("participant_id", "time")
    return dict(
        zip(
            rows["participant_id"] + "/" + rows["visit_id"].fill_null("-"),
            rows["value"],
            strict=True,
        )
    )


MEAS = _frame(
    "measurements",
    [
        _m("P1", "d0", T0, "fcp", 500.0, "pmol/L"),
        _m("P1", "d0", T1, "fpg", 8.1, "mmol/L"),
        _m("P1", "d0", T1, "fins", 72.0, "pmol/L"),
        _m("P1", "d14", T2, "fcp", 400.0, "pmol/L"),
        _m("P1", "d14", T2, "fpg", 3.2, "mmol/L"),  # HOMA-B undefined
        _m("P2", "d0", T0, "fcp", 280.0, "pmol/L", fasting=None),
        _m("P2", "d0", T0, "fpg", 10.0, "mmol/L"),
        _m("P2", "d0", datetime(2024, 3, 1, 12), "fpg", 14.0, "mmol/L"),  # later: not paired
        _m("P3", "d0", T0, "fcp", 300.0, "pmol/L"),  # no fpg: nothing derived
        _m("P3", None, T2, "fcp", 560.0, "pmol/L"),  # unscheduled pair at the same time
        _m("P3", None, T2, "fpg", 5.0, "mmol/L"),
    ],
)


def test_homa_cp_rows_by_hand():
    out = derive_homa_cp(MEAS)
    # P1/d0: 1.5 + 500 x 8.1 / 2800 = 2.9464286 ; P1/d14: 1.5 + 400 x 3.2 / 2800 = 1.9571429
    # P2/d0 (first fpg, 10.0): 1.5 + 280 x 10 / 2800 = 2.5 ; P3 unscheduled: 1.5 + 560x5/2800 = 2.5
    ir = _values(out.table, "homa_cp_ir")
    assert ir == pytest.approx({"P1/d0": 2.9464286, "P1/d14": 1.9571429, "P2/d0": 2.5, "P3/-": 2.5})
    # B: 0.27 x 500 / 4.6 = 29.347826 ; 0.27 x 280 / 6.5 = 11.630769 ; 0.27 x 560 / 1.5 = 100.8
    b = _values(out.table, "homa_cp_b")
    assert b == pytest.approx({"P1/d0": 29.347826, "P2/d0": 11.630769, "P3/-": 100.8})
    skipped = out.skipped.to_dicts()
    assert [(s["participant_id"], s["visit_id"], s["analyte"]) for s in skipped] == [
        ("P1", "d14", "homa_cp_b")
    ]
    assert "FPG <= 3.5" in skipped[0]["reason"]


def test_derived_rows_follow_the_schema():
    out = derive_homa_cp(MEAS).table
    assert out.schema == MEAS.schema
    assert out.height == MEAS.height + 7
    new = out.filter(pl.col("source") == "derived").sort("participant_id", "time", "analyte")
    assert set(new["unit"]) == {"1", "%"}
    p1 = new.filter((pl.col("participant_id") == "P1") & (pl.col("visit_id") == "d0"))
    assert p1["time"].to_list() == [T1, T1]  # the later of the two input times
    # P2's fcp has unknown fasting: the derived rows' fasting is unknown too
    assert new.filter(pl.col("participant_id") == "P2")["fasting"].to_list() == [None, None]


def test_rederiving_replaces_not_duplicates():
    once = derive_homa_cp(MEAS).table
    twice = derive_homa_cp(once).table
    assert twice.sort(pl.all()).equals(once.sort(pl.all()))


def test_homa1_rows_by_hand():
    out = derive_homa1(MEAS)
    # P1/d0: glucose 8.1, insulin 72 pmol/L = 12 uU/mL: IR = 8.1 x 12 / 22.5 = 4.32 ;
    # %B = 20 x 12 / 4.6 = 52.173913
    assert _values(out.table, "homa1_ir") == pytest.approx({"P1/d0": 4.32})
    assert _values(out.table, "homa1_b") == pytest.approx({"P1/d0": 52.173913})


def test_homa_skips_pairs_with_a_non_fasting_input():
    m = _frame(
        "measurements",
        [
            _m("P1", "d0", T0, "fcp", 500.0, "pmol/L"),
            _m("P1", "d0", T0, "fpg", 8.1, "mmol/L", fasting=False),  # post-meal glucose
            _m("P1", "d0", T0, "fins", 72.0, "pmol/L"),
            _m("P2", "d0", T0, "fcp", 280.0, "pmol/L", fasting=False),
            _m("P2", "d0", T0, "fpg", 10.0, "mmol/L"),
            _m("P3", "d0", T0, "fcp", 300.0, "pmol/L"),
            _m("P3", "d0", T0, "fpg", 7.0, "mmol/L"),
        ],
    )
    cp = derive_homa_cp(m)
    # only P3 is fasting on both sides: 1.5 + 300 x 7 / 2800 = 2.25 (by hand)
    assert _values(cp.table, "homa_cp_ir") == pytest.approx({"P3/d0": 2.25})
    skipped = sorted((s["participant_id"], s["analyte"]) for s in cp.skipped.to_dicts())
    assert skipped == [
        ("P1", "homa_cp_b"), ("P1", "homa_cp_ir"), ("P2", "homa_cp_b"), ("P2", "homa_cp_ir")
    ]  # fmt: skip
    assert all("fasting=false" in r for r in cp.skipped["reason"])
    h1 = derive_homa1(m)
    assert _values(h1.table, "homa1_ir") == {}  # P1's glucose was not fasting
    assert sorted(h1.skipped["analyte"]) == ["homa1_b", "homa1_ir"]


def test_hba1c_ifcc_and_eag():
    m = _frame("measurements", [_m("P1", "d0", T0, "hba1c", 7.0, "%")])
    # (7.0 - 2.152) / 0.09148 = 52.995 mmol/mol ; (28.7 x 7 - 46.7) / 18.016 = 8.55906 mmol/L
    assert _values(derive_hba1c_ifcc(m).table, "hba1c_ifcc")["P1/d0"] == pytest.approx(52.995, 1e-4)
    assert _values(derive_eag(m).table, "eag")["P1/d0"] == pytest.approx(8.55906, 1e-5)


PARTICIPANTS = _frame(
    "participants",
    [
        dict(participant_id="P1", site_id="S", sex="F", birth_date=date(1974, 3, 1),
             enrollment_date=date(2024, 1, 1), height_cm=160.0),
        dict(participant_id="P2", site_id="S", sex="m", age=40.0,
             enrollment_date=date(2024, 3, 1), height_cm=None),
        dict(participant_id="P3", site_id="S", sex="U", age=55.0, enrollment_date=date(2024, 1, 1)),
        dict(participant_id="P4", site_id="S", sex="M", age=16.0, enrollment_date=date(2024, 3, 1)),
    ],
)  # fmt: skip


def test_egfr_from_birth_date_or_age_and_skips_with_reasons():
    m = _frame(
        "measurements",
        [
            _m("P1", "d0", T0, "creatinine", 88.4, "umol/L"),  # woman aged 50.0 exactly
            _m("P2", "d0", T0, "creatinine", 70.72, "umol/L"),  # man aged 40 at enrolment
            _m("P3", "d0", T0, "creatinine", 80.0, "umol/L"),  # sex U
            _m("P4", "d0", T0, "creatinine", 80.0, "umol/L"),  # 16 years old
        ],
    )
    out = derive_egfr(m, PARTICIPANTS)
    # P1: born 1974-03-01, sampled 2024-03-01: 50 completed years -> 68.63 (see test_egfr);
    # P2: 40 y man -> 114.735
    assert _values(out.table, "egfr") == pytest.approx({"P1/d0": 68.633, "P2/d0": 114.735}, 1e-4)
    reasons = dict(zip(out.skipped["participant_id"], out.skipped["reason"], strict=True))
    assert reasons["P3"] == "sex U is not M or F"
    assert reasons["P4"].startswith("age < 18")


def test_bmi_uses_participant_height_else_measured_height():
    m = _frame(
        "measurements",
        [
            _m("P1", "d0", T0, "weight", 64.0, "kg"),
            _m("P2", "d0", T0, "weight", 90.0, "kg"),
            _m("P2", "d0", T0, "height", 150.0, "cm"),
            _m("P3", "d0", T0, "weight", 70.0, "kg"),
        ],
    )
    out = derive_bmi(m, PARTICIPANTS)
    # 64 / 1.6^2 = 25.0 ; 90 / 1.5^2 = 40.0 ; P3 has no height
    assert _values(out.table, "bmi") == pytest.approx({"P1/d0": 25.0, "P2/d0": 40.0})
    assert out.skipped["participant_id"].to_list() == ["P3"]


def test_ckd_stage_table_and_expression():
    m = _frame(
        "measurements",
        [
            _m("P1", "d0", T0, "egfr", 59.9, "mL/min/{1.73_m2}"),
            _m("P2", "d0", T0, "egfr", 90.0, ""),
        ],
    )
    staged = derive_ckd_stage(m).table
    assert staged.sort("participant_id")["ckd_stage"].to_list() == ["G3a", "G1"]
    s = pl.select(ckd_stage_expr(pl.lit(pl.Series([14.9, 15.0, 44.9, 45.0])))).to_series()
    assert s.to_list() == ["G5", "G4", "G3b", "G3a"]  # KDIGO 2012 bounds


def test_dose_per_kg_from_infusion_weight_or_last_weight_before():
    inf = _frame(
        "infusions",
        [
            dict(infusion_id="I1", participant_id="P1", lot_id="L", start_time=T2,
                 dose_cells=6e7, weight_kg=None),
            dict(infusion_id="I2", participant_id="P1", lot_id="L", start_time=T0,
                 dose_cells=6e7, weight_kg=75.0),
            dict(infusion_id="I3", participant_id="P2", lot_id="L", start_time=T0,
                 dose_cells=6e7),
        ],
    )  # fmt: skip
    m = _frame(
        "measurements",
        [
            _m("P1", "d0", datetime(2024, 2, 1), "weight", 60.0, "kg"),
            _m("P1", "d14", T2, "weight", 50.0, "kg"),  # same time as I1: on or before counts
            _m("P1", "d28", datetime(2024, 4, 1), "weight", 40.0, "kg"),  # after: unused
            _m("P2", "d28", datetime(2024, 4, 1), "weight", 40.0, "kg"),  # after: unused
        ],
    )
    out = derive_dose_per_kg(inf, m)
    assert out.table["infusion_id"].to_list() == ["I1", "I2", "I3"]  # order kept
    # I1: 6e7 / 50 = 1.2e6 ; I2: 6e7 / 75 = 8e5 ; I3: no weight on or before
    assert out.table["dose_cells_per_kg"].to_list() == [1.2e6, 8e5, None]
    assert out.table["weight_kg"].to_list() == [50.0, 75.0, None]
    assert out.skipped["participant_id"].to_list() == ["P2"]
    assert out.table.schema == inf.schema


def test_insulin_u_per_kg_uses_the_weight_on_its_start_date():
    meds = _frame(
        "medications",
        [
            dict(participant_id="P1", drug="insulin glargine", atc_code="A10AE04",
                 daily_dose=16.0, dose_unit="U", start_date=date(2024, 2, 25)),
            dict(participant_id="P1", drug="metformin", atc_code="A10BA02",
                 daily_dose=1000.0, dose_unit="mg", start_date=date(2024, 1, 1)),
            dict(participant_id="P1", drug="Insulin aspart", atc_code=None,
                 daily_dose=12.0, dose_unit="mg", start_date=date(2024, 3, 1)),
            dict(participant_id="P9", drug="insulin degludec", atc_code="A10AE06",
                 daily_dose=10.0, dose_unit="U", start_date=date(2024, 3, 1)),
        ],
    )  # fmt: skip
    m = _frame(
        "measurements",
        [_m("P1", "d0", T0, "weight", 80.0, "kg"), _m("P1", "d84", T2, "weight", 70.0, "kg")],
    )
    out = derive_insulin_u_per_kg(meds, m)
    # no weight on or before 25 Feb; the earliest after it is 1 Mar (80 kg): 16 / 80 = 0.2
    assert out.table["insulin_u_per_kg"].to_list() == [pytest.approx(0.2)]
    reasons = dict(zip(out.skipped["participant_id"], out.skipped["reason"], strict=True))
    assert reasons == {
        "P1": "dose_unit mg is not an insulin unit",
        "P9": "no weight measurement (nor infusion record weight) for the participant",
    }


def test_missing_columns_is_a_clear_error():
    with pytest.raises(MissingColumnsError, match="participants: missing column"):
        derive_egfr(MEAS, PARTICIPANTS.drop("sex"))


def test_derive_study_runs_every_derivation():
    study = StudyData(StudyMeta("s"), participants=PARTICIPANTS, measurements=MEAS)
    out, skipped = derive_study(study)
    derived = out.measurements.filter(pl.col("source") == "derived")
    assert set(derived["analyte"]) == {"homa_cp_ir", "homa_cp_b", "homa1_ir", "homa1_b"}
    assert skipped["analyte"].to_list() == ["homa_cp_b"]
    assert not np.isinf(out.measurements["value"].to_numpy()).any()


def test_ckd_stage_expr_agrees_with_numpy_stage_on_a_grid():
    from celltrial.clinical import ckd_stage

    grid = np.concatenate([np.arange(0, 130, 0.5), [np.nan]])
    staged = pl.select(ckd_stage_expr(pl.lit(pl.Series(grid)))).to_series().to_list()
    assert staged == ckd_stage(grid).tolist()


def test_clinical_expr_on_a_wide_frame():
    from celltrial.clinical import bmi, homa_cp_b
    from celltrial.clinical.derivations import clinical_expr

    wide = pl.DataFrame(
        {"fcp": [500.0, 400.0], "fpg": [8.1, 3.2], "w": [64.0, 90], "h": [160, 150]}
    )
    out = wide.select(
        clinical_expr(homa_cp_b, pl.col("fcp"), pl.col("fpg")).alias("b"),
        clinical_expr(bmi, pl.col("w"), pl.col("h")).alias("bmi"),
    )
    # 0.27 x 500 / 4.6 = 29.347826 ; FPG 3.2: undefined -> null ; 64/1.6^2 = 25 ; 90/1.5^2 = 40
    assert out["b"].to_list() == [pytest.approx(29.347826), None]
    assert out["bmi"].to_list() == [pytest.approx(25.0), pytest.approx(40.0)]
