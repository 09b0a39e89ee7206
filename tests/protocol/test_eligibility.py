"""Screening against Lian 2022's criteria: boundaries of every numeric rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from celltrial.clinical.drugs import atc_with_extensions
from celltrial.data.schema import empty_frame
from celltrial.data.study import StudyData, StudyMeta
from celltrial.protocol import load_protocol
from celltrial.protocol.eligibility import age_within, screen, value_within
from celltrial.protocol.model import AgeCriterion, MeasurementCriterion
from celltrial.simulate.virtual_trials import eligible_mask

LIAN = load_protocol("lian2022")
ENROL = dt.date(2021, 6, 15)


def _study(
    birth: dt.date | None = dt.date(1970, 1, 1),
    age: float | None = None,
    values: dict[str, float] | None = None,
    meds: list[tuple[str, str, dt.date, dt.date | None]] | None = None,
    answers: list[tuple[str, bool | None]] | None = None,
) -> StudyData:
    people = pl.DataFrame(
        {
            "participant_id": ["p1"],
            "site_id": ["s"],
            "sex": ["M"],
            "birth_date": [birth],
            "age": [age],
            "enrollment_date": [ENROL],
        },
        schema_overrides={"birth_date": pl.Date, "age": pl.Float64},
    )
    base = {"hba1c": 8.0, "gad_ab": 1.0, "sbp": 130.0, "dbp": 80.0} | (values or {})
    measured = pl.DataFrame(
        {
            "participant_id": ["p1"] * len(base),
            "time": [dt.datetime(2021, 6, 1, 8)] * len(base),
            "analyte": list(base),
            "value": list(base.values()),
        }
    )
    rows = meds if meds is not None else [("metformin", "A10BA02", dt.date(2019, 1, 1), None)]
    medications = pl.DataFrame(
        [
            {"participant_id": "p1", "drug": d, "atc_code": a, "start_date": s, "end_date": e}
            for d, a, s, e in rows
        ],
        schema={
            "participant_id": pl.Utf8,
            "drug": pl.Utf8,
            "atc_code": pl.Utf8,
            "start_date": pl.Date,
            "end_date": pl.Date,
        },
    )
    checklist = [c.id for c in LIAN.eligibility if c.check == "checklist"]
    given = answers if answers is not None else [(c, True) for c in checklist]
    screening = pl.DataFrame(
        {
            "participant_id": ["p1"] * len(given),
            "criterion_id": [c for c, _ in given],
            "met": [m for _, m in given],
        },
        schema={"participant_id": pl.Utf8, "criterion_id": pl.Utf8, "met": pl.Boolean},
    )
    return StudyData(
        StudyMeta("t"),
        participants=pl.concat([empty_frame("participants"), people], how="diagonal_relaxed"),
        measurements=measured,
        medications=medications,
        screening=pl.concat([empty_frame("screening"), screening], how="diagonal_relaxed"),
    )


def _status(study: StudyData, criterion: str) -> str:
    result = screen(study, LIAN).criteria
    return result.filter(pl.col("criterion_id") == criterion)["status"].item()


def test_everything_answered_and_in_range_is_eligible() -> None:
    result = screen(_study(), LIAN)
    assert result.eligible_ids() == ["p1"]
    assert result.criteria.height == len(LIAN.eligibility)


@pytest.mark.parametrize(
    ("birth", "status"),
    [
        (dt.date(2003, 6, 15), "met"),  # 18th birthday on the enrolment day
        (dt.date(2003, 6, 16), "not_met"),  # 18 tomorrow: 17 completed years
        (dt.date(1950, 6, 16), "met"),  # 70 completed years (71 tomorrow)
        (dt.date(1950, 6, 15), "not_met"),  # 71st birthday on the enrolment day
    ],
)
def test_age_boundaries_inclusive(birth: dt.date, status: str) -> None:
    assert _status(_study(birth=birth), "inc_age") == status


def test_age_column_used_without_birth_date_and_unknown_without_either() -> None:
    assert _status(_study(birth=None, age=70.9), "inc_age") == "met"
    assert _status(_study(birth=None, age=71.0), "inc_age") == "not_met"
    assert _status(_study(birth=None, age=None), "inc_age") == "unknown"


@pytest.mark.parametrize(
    ("hba1c", "status"),
    [(6.99, "not_met"), (7.0, "met"), (9.5, "met"), (9.51, "not_met")],
)
def test_hba1c_boundaries_inclusive(hba1c: float, status: str) -> None:
    assert _status(_study(values={"hba1c": hba1c}), "inc_hba1c") == status


@pytest.mark.parametrize(
    ("analyte", "criterion", "value", "status"),
    [
        ("sbp", "exc_bp", 179.0, "met"),
        ("sbp", "exc_bp", 180.0, "not_met"),  # >= 180 excludes
        ("dbp", "exc_dbp", 109.0, "met"),
        ("dbp", "exc_dbp", 110.0, "not_met"),
        ("gad_ab", "exc_gad", 4.99, "met"),
        ("gad_ab", "exc_gad", 5.0, "not_met"),  # >= 5 IU/mL is positive
    ],
)
def test_exclusion_thresholds(analyte: str, criterion: str, value: float, status: str) -> None:
    assert _status(_study(values={analyte: value}), criterion) == status


def test_latest_value_in_the_screening_window_decides() -> None:
    study = _study()
    late = pl.DataFrame(
        {
            "participant_id": ["p1", "p1"],
            "time": [dt.datetime(2021, 6, 10), dt.datetime(2021, 6, 16)],  # day -5, day +1
            "analyte": ["hba1c", "hba1c"],
            "value": [9.8, 8.0],
        }
    )
    study = study.with_table("measurements", pl.concat([study.measurements, late]))
    row = (
        screen(study, LIAN)
        .criteria.filter(pl.col("criterion_id") == "inc_hba1c")
        .row(0, named=True)
    )
    assert row["status"] == "not_met" and "9.8" in row["reason"]


def test_no_hba1c_is_unknown_unless_the_investigator_answered() -> None:
    study = _study()
    study = study.with_table(
        "measurements", study.measurements.filter(pl.col("analyte") != "hba1c")
    )
    assert _status(study, "inc_hba1c") == "unknown"
    answered = study.with_table(
        "screening",
        pl.concat(
            [
                study.screening,
                pl.DataFrame(
                    {
                        "participant_id": ["p1"],
                        "criterion_id": ["inc_hba1c"],
                        "met": [True],
                        "reason": ["8.1 % at referral"],
                    }
                ),
            ],
            how="diagonal_relaxed",
        ),
    )
    row = (
        screen(answered, LIAN)
        .criteria.filter(pl.col("criterion_id") == "inc_hba1c")
        .row(0, named=True)
    )
    assert row["status"] == "met" and row["reason"].startswith("investigator")


@pytest.mark.parametrize(
    ("end", "status"),
    [
        (ENROL - dt.timedelta(days=90), "not_met"),  # last taken exactly 90 days before
        (ENROL - dt.timedelta(days=91), "met"),
        (None, "not_met"),  # ongoing
    ],
)
def test_thiazolidinedione_within_3_months(end: dt.date | None, status: str) -> None:
    meds = [("pioglitazone", "A10BG03", dt.date(2020, 1, 1), end)]
    assert _status(_study(meds=meds), "exc_tzd") == status


@pytest.mark.parametrize(
    ("end", "others", "status"),
    [
        (None, [], "unknown"),  # ongoing, start unknown: may have run in the 90 days
        (ENROL - dt.timedelta(days=30), [], "unknown"),  # ended inside the window
        (ENROL - dt.timedelta(days=91), [], "met"),  # ended before the window: cannot count
        # a dated TZD in the window decides it whatever the undated one
        (None, [("rosiglitazone", "A10BG02", dt.date(2021, 1, 1), None)], "not_met"),
    ],
)
def test_thiazolidinedione_without_start_date(
    end: dt.date | None, others: list, status: str
) -> None:
    meds = [("pioglitazone", "A10BG03", None, end), *others]
    result = screen(_study(meds=meds), LIAN).criteria.filter(pl.col("criterion_id") == "exc_tzd")
    row = result.row(0, named=True)
    assert row["status"] == status
    if status == "unknown":
        assert "no start_date" in row["reason"] and "pioglitazone" in row["reason"]


def test_undated_thiazolidinedione_answered_by_the_investigator() -> None:
    meds = [("pioglitazone", "A10BG03", None, None)]
    answers = [(c.id, True) for c in LIAN.eligibility if c.check == "checklist"]
    study = _study(meds=meds, answers=[*answers, ("exc_tzd", True)])
    assert _status(study, "exc_tzd") == "met"


def test_glucose_affecting_drugs_and_missing_history() -> None:
    pred = [("prednisone", "H02AB07", ENROL - dt.timedelta(days=20), ENROL - dt.timedelta(days=10))]
    assert _status(_study(meds=pred), "exc_glucose_drugs") == "not_met"
    old = [("prednisone", "H02AB07", dt.date(2020, 1, 1), ENROL - dt.timedelta(days=31))]
    assert _status(_study(meds=old), "exc_glucose_drugs") == "met"
    assert _status(_study(meds=[]), "exc_glucose_drugs") == "unknown"


def test_checklist_unanswered_or_failed_blocks_eligibility() -> None:
    result = screen(_study(answers=[("exc_hiv", False)]), LIAN)
    assert not result.participants["eligible"].item()
    statuses = dict(result.criteria.select("criterion_id", "status").iter_rows())
    assert statuses["exc_hiv"] == "not_met" and statuses["exc_malignancy"] == "unknown"
    assert result.participants["n_not_met"].item() == 1


def test_one_rule_for_frames_and_arrays_at_the_bounds() -> None:
    # lian2022: HbA1c 7.0-9.5 inclusive (L110-111), GAD < 5.0 strict, age 18-70 inclusive
    lian = load_protocol("lian2022")
    crit = {c.id: c for c in lian.eligibility}
    hba1c, gad, age = crit["inc_hba1c"], crit["exc_gad"], crit["inc_age"]
    assert isinstance(hba1c, MeasurementCriterion) and isinstance(gad, MeasurementCriterion)
    assert isinstance(age, AgeCriterion)
    v = np.array([6.99, 7.0, 9.5, 9.51])
    by_hand = [False, True, True, False]
    assert value_within(hba1c, v).tolist() == by_hand
    frame = pl.DataFrame({"v": v}).select(value_within(hba1c, pl.col("v")))["v"]
    assert frame.to_list() == by_hand
    assert value_within(gad, np.array([4.99, 5.0])).tolist() == [True, False]
    years = np.array([17.0, 18.0, 70.0, 71.0])
    assert age_within(age, years).tolist() == [False, True, True, False]
    # the simulator's mask uses the same rules: age 70.9 is 70 completed years (eligible)
    ages = np.array([[70.9, 71.0, 40.0, 40.0]])
    values = {"hba1c": np.array([[8.0, 8.0, 9.51, 8.0]]), "gad_ab": np.array([[1, 1, 1, 5.0]])}
    assert eligible_mask(lian, ages, values).tolist() == [[True, False, False, False]]


CHIN = load_protocol("chin2025")


def _registry(birth: dt.date, infused: dt.datetime | None) -> StudyData:
    people = pl.DataFrame(
        {"participant_id": ["r1"], "birth_date": [birth], "enrollment_date": [ENROL]}
    )
    infusions = pl.DataFrame(
        {
            "participant_id": ["r1"] * (infused is not None),
            "start_time": [infused] * (infused is not None),
        },
        schema={"participant_id": pl.Utf8, "start_time": pl.Datetime("us")},
    )
    return StudyData(
        StudyMeta("r"),
        participants=pl.concat([empty_frame("participants"), people], how="diagonal_relaxed"),
        infusions=pl.concat([empty_frame("infusions"), infusions], how="diagonal_relaxed"),
    )


@pytest.mark.parametrize(
    ("infused", "status", "reason"),
    [
        # 18th birthday two weeks after enrolment; infused a month after enrolment: 18
        (ENROL + dt.timedelta(days=30), "met", "age 18 years at first infusion"),
        # infused the day before the birthday: still 17 completed years
        (ENROL + dt.timedelta(days=13), "not_met", "age 17 years at first infusion"),
        (None, "unknown", "no first infusion date recorded"),
    ],
)
def test_chin_adult_is_judged_at_the_first_infusion(
    infused: dt.date | None, status: str, reason: str
) -> None:
    inc_adult = next(c for c in CHIN.eligibility if c.id == "inc_adult")
    assert isinstance(inc_adult, AgeCriterion) and inc_adult.at == "first_infusion"
    birth = dt.date(ENROL.year - 18, ENROL.month, ENROL.day) + dt.timedelta(days=14)
    when = None if infused is None else dt.datetime.combine(infused, dt.time(10))
    row = (
        screen(_registry(birth, when), CHIN)
        .criteria.filter(pl.col("criterion_id") == "inc_adult")
        .row(0, named=True)
    )
    assert (row["status"], row["reason"].split(";")[0]) == (status, reason)


@pytest.mark.parametrize(
    ("birth", "on", "years"),
    [
        # worked by hand: the birthday counts as reached; July-December (month x 100 > 127)
        (dt.date(2003, 6, 29), dt.date(2021, 7, 15), 18),
        (dt.date(2003, 7, 16), dt.date(2021, 7, 15), 17),
        (dt.date(2003, 12, 31), dt.date(2021, 12, 31), 18),
        (dt.date(2003, 12, 31), dt.date(2021, 12, 30), 17),
        (dt.date(2004, 2, 29), dt.date(2022, 2, 28), 17),  # leap-day birthday: not yet
        (dt.date(2004, 2, 29), dt.date(2022, 3, 1), 18),
    ],
)
def test_completed_years_in_every_month(birth: dt.date, on: dt.date, years: int) -> None:
    from celltrial.clinical.derivations import completed_years

    got = pl.DataFrame({"b": [birth], "o": [on]}).select(completed_years(pl.col("b"), pl.col("o")))
    assert got.item() == years


# Exclusions by ATC code catch combination products (WHO ATC/DDD Index codes).
RECENT = ENROL - dt.timedelta(days=10)  # started 10 days before enrolment, ongoing


@pytest.mark.parametrize(
    ("drug", "atc", "status"),
    [
        ("losartan and hydrochlorothiazide", "C09DA01", "not_met"),  # ARB + diuretic
        ("enalapril and hydrochlorothiazide", "C09BA02", "not_met"),  # ACE-I + diuretic
        ("bisoprolol and hydrochlorothiazide", "C07BB07", "not_met"),  # beta blocker + thiazide
        ("amiloride and hydrochlorothiazide", "C03EA01", "not_met"),  # + K-sparing agent
        ("indapamide", "C03BA11", "not_met"),  # thiazide-like
        ("valsartan, amlodipine and hydrochlorothiazide", "C09DX01", "not_met"),
        ("amitriptyline and psycholeptics", "N06CA01", "not_met"),  # tricyclic combination
        ("valsartan and amlodipine", "C09DB01", "met"),  # no diuretic
        ("valsartan and sacubitril", "C09DX04", "met"),  # C09DX, but no thiazide
        ("furosemide", "C03CA01", "met"),  # high-ceiling diuretic: not a thiazide
    ],
)
def test_glucose_affecting_combinations(drug: str, atc: str, status: str) -> None:
    meds = [("metformin", "A10BA02", dt.date(2019, 1, 1), None), (drug, atc, RECENT, None)]
    assert _status(_study(meds=meds), "exc_glucose_drugs") == status


@pytest.mark.parametrize(
    ("drug", "atc", "status"),
    [
        ("metformin and pioglitazone", "A10BD05", "not_met"),
        ("pioglitazone and alogliptin", "A10BD09", "not_met"),
        ("metformin and rosiglitazone", "a10bd03 ", "not_met"),  # case and spaces ignored
        ("metformin and sitagliptin", "A10BD07", "met"),  # no glitazone
        ("pioglitazone", None, "not_met"),  # no code: the catalogue's code for the name
    ],
)
def test_thiazolidinedione_combinations(drug: str, atc: str | None, status: str) -> None:
    meds = [(drug, atc, RECENT, None)]
    assert _status(_study(meds=meds), "exc_tzd") == status


def test_extensions_follow_the_named_group() -> None:
    # A10BG names both glitazones; A10BG03 pioglitazone only; an unrelated group adds nothing
    both = atc_with_extensions(["A10BG"])
    assert {"A10BD03", "A10BD04", "A10BD05", "A10BD06", "A10BD09", "A10BD12"} <= set(both)
    pio = atc_with_extensions(["a10bg03"])
    assert "A10BD05" in pio and "A10BD03" not in pio
    assert atc_with_extensions(["C10AA"]) == ["C10AA"]
    assert atc_with_extensions(["C03", "C03AA"])[:2] == ["C03", "C03AA"]  # given order first
