"""validate(): each rule on a small in-memory study, checked against a hand-made case."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from celltrial.data import StudyData, StudyMeta, validate
from celltrial.data.schema import TABLES


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=TABLES[table].polars_schema)


def _participant(pid: str = "P1", **kw) -> dict:
    row = {
        "participant_id": pid,
        "site_id": "S1",
        "sex": "F",
        "birth_date": dt.date(1970, 1, 1),
        "enrollment_date": dt.date(2020, 1, 1),
    }
    return {**row, **kw}


def _measurement(value: float, analyte: str = "fpg", unit: str = "mmol/L", **kw) -> dict:
    row = {
        "participant_id": "P1",
        "time": dt.datetime(2020, 1, 2, 8),
        "analyte": analyte,
        "value": value,
        "unit": unit,
    }
    return {**row, **kw}


def _study(**tables: list[dict]) -> StudyData:
    tables.setdefault("participants", [_participant()])
    return StudyData(StudyMeta("t"), **{k: _frame(k, v) for k, v in tables.items()})


def _rules(study: StudyData) -> list[tuple[str, str, int | None, str | None]]:
    return [(f.severity, f.table, f.row, f.column) for f in validate(study)]


def test_clean_study_has_no_findings():
    assert _rules(_study(measurements=[_measurement(7.0)])) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.4, [("error", "measurements", 1, "value")]),  # < possible 0.5 mmol/L
        (2.9, [("warning", "measurements", 1, "value")]),  # < plausible 3.0 mmol/L
        (3.0, []),  # bounds are inclusive
        (25.0, []),
        (25.1, [("warning", "measurements", 1, "value")]),
        (60.1, [("error", "measurements", 1, "value")]),
    ],
)
def test_glucose_possible_and_plausible_ranges(value, expected):
    # fpg catalogue: possible 0.5-60 mmol/L (error), plausible 3.0-25 mmol/L (warning)
    assert _rules(_study(measurements=[_measurement(value)])) == expected


def test_unknown_unit_and_analyte_are_errors():
    study = _study(
        measurements=[
            _measurement(7.0, unit_as_entered="mg", value_as_entered="126"),
            _measurement(1.0, analyte="unobtainium", unit="x", time=dt.datetime(2020, 1, 3)),
        ]
    )
    found = list(validate(study))
    assert [(f.row, f.column) for f in found] == [(2, "analyte"), (1, "unit_as_entered")]
    assert "accepted: mmol/L, mg/dL, g/L" in found[1].rule


def test_required_values_duplicates_and_references():
    study = _study(
        participants=[_participant(), _participant(), _participant("P2", sex=None)],
        visits=[{"participant_id": "P9", "visit_id": "d0"}],
        infusions=[
            {
                "infusion_id": "I1",
                "participant_id": "P1",
                "lot_id": "L404",
                "start_time": dt.datetime(2020, 1, 2, 9),
                "dose_cells": 7e7,
            }
        ],
    )
    assert _rules(study) == [
        ("error", "participants", 3, "sex"),  # required value missing
        ("error", "participants", 2, "participant_id"),  # duplicate key
        ("error", "infusions", None, "lot_id"),  # a lot, but no lots table: one finding
        ("error", "visits", 1, "participant_id"),  # unknown participant
    ]


def test_dates_out_of_order():
    study = _study(
        participants=[_participant(birth_date=dt.date(2021, 1, 1))],
        visits=[
            {
                "participant_id": "P1",
                "visit_id": "d0",
                "target_day": 0,
                "actual_date": dt.date(2019, 12, 1),
            },
            # a run-in visit scheduled before day 0 may precede enrolment
            {
                "participant_id": "P1",
                "visit_id": "RUNIN",
                "target_day": -112,
                "actual_date": dt.date(2019, 9, 1),
            },
        ],
        adverse_events=[
            {
                "participant_id": "P1",
                "ae_id": "A1",
                "term": "Fever",
                "onset_time": dt.datetime(2020, 1, 5, 20),
                "end_time": dt.datetime(2020, 1, 5, 8),
            }
        ],
        medications=[
            {
                "participant_id": "P1",
                "drug": "metformin",
                "start_date": dt.date(2020, 1, 1),
                "end_date": dt.date(2019, 1, 1),
            }
        ],
    )
    assert _rules(study) == [
        ("error", "participants", 1, "birth_date"),
        ("error", "visits", 1, "actual_date"),
        ("error", "medications", 1, "end_date"),
        ("error", "adverse_events", 1, "end_time"),
    ]


def test_lot_and_infusion_rules():
    lot = {
        "lot_id": "L1",
        "release_status": "quarantine",
        "viability_pct": 101.0,
        "expiry_date": dt.date(2020, 1, 1),
    }
    infusion = {
        "infusion_id": "I1",
        "participant_id": "P1",
        "lot_id": "L1",
        "start_time": dt.datetime(2020, 1, 2, 9),
        "dose_cells": 7.0e7,
        "weight_kg": 70.0,
        "dose_cells_per_kg": 1.1e6,
    }  # 7e7 / 70 = 1.0e6, not 1.1e6
    found = list(validate(_study(lots=[lot], infusions=[infusion])))
    assert [(f.severity, f.table, f.column) for f in found] == [
        ("error", "lots", "viability_pct"),
        ("error", "infusions", "lot_id"),  # not released
        ("error", "infusions", "start_time"),  # after expiry
        ("warning", "infusions", "dose_cells_per_kg"),
    ]


def test_in_memory_frame_with_wrong_types_and_missing_columns():
    visits = pl.DataFrame({"participant_id": ["P1", "P1"], "target_day": ["0", "two"]})
    study = StudyData(
        StudyMeta("t"), participants=_frame("participants", [_participant()]), visits=visits
    )
    found = list(validate(study))
    assert [(f.row, f.column, f.rule) for f in found] == [
        (None, "visit_id", "required column missing"),
        (2, "target_day", "not a whole number"),
    ]


def test_findings_count_errors_and_warnings():
    study = _study(
        measurements=[_measurement(0.4), _measurement(2.9, time=dt.datetime(2021, 1, 1))]
    )
    findings = validate(study)
    assert (findings.errors, findings.warnings, len(findings), findings.ok) == (1, 1, 2, False)
