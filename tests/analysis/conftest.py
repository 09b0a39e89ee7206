"""Small hand-built StudyData fixtures (the simulator is not needed to test the analysis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData, StudyMeta

VISITS = {"d0": 0, "d14": 14, "d21": 21, "d28": 28, "d84": 84}
START = dt.date(2024, 1, 8)


def _frame(table: str, data: dict) -> pl.DataFrame:
    schema = TABLES[table].polars_schema
    frame = pl.DataFrame(data)
    return frame.with_columns(
        [pl.lit(None, dtype).alias(c) for c, dtype in schema.items() if c not in frame.columns]
    ).select([pl.col(c).cast(dtype) for c, dtype in schema.items()])


def make_study(n: int = 12, seed: int = 1, protocol: str | None = "lian2022") -> StudyData:
    rng = np.random.default_rng(seed)
    ids = [f"P{i:02d}" for i in range(n)]
    sex = np.where(np.arange(n) % 4 == 0, "F", "M")
    participants = _frame(
        "participants",
        {
            "participant_id": ids,
            "site_id": ["S1"] * n,
            "sex": sex,
            "age": np.round(rng.normal(52, 8, n), 1),
            "enrollment_date": [START] * n,
            "diabetes_duration_years": np.round(rng.uniform(2, 20, n), 1),
            "height_cm": np.round(rng.normal(168, 8, n), 1),
            "status": ["completed"] * n,
        },
    )
    pid = np.repeat(ids, len(VISITS))
    vid = np.tile(list(VISITS), n)
    day = np.tile(list(VISITS.values()), n)
    effect = np.where(day > 0, 1.0, 0.0)
    fpg = rng.normal(9.5, 2.0, n).repeat(len(VISITS)) - effect * rng.normal(
        1.8, 1.0, n * len(VISITS)
    )
    fcp = rng.normal(700, 250, n).repeat(len(VISITS)) + effect * rng.normal(60, 80, n * len(VISITS))
    leuko = rng.normal(6.5, 1.2, n * len(VISITS))
    times = [dt.datetime.combine(START + dt.timedelta(days=int(d)), dt.time(8)) for d in day]
    long = pl.DataFrame(
        {
            "participant_id": pid,
            "visit_id": vid,
            "time": times,
            "fpg": fpg,
            "fcp": fcp,
            "leukocytes": leuko,
        }
    ).unpivot(index=["participant_id", "visit_id", "time"], variable_name="analyte")
    hba1c = pl.DataFrame(
        {
            "participant_id": pid,
            "visit_id": vid,
            "time": times,
            "value": rng.normal(8.0, 0.6, n).repeat(len(VISITS)) - 0.6 * effect,
            "analyte": "hba1c",
        }
    ).filter(pl.col("visit_id").is_in(["d0", "d28", "d84"]))
    units = {"fpg": "mmol/L", "fcp": "pmol/L", "leukocytes": "10*9/L", "hba1c": "%"}
    meas = pl.concat([long, hba1c], how="diagonal").with_columns(
        pl.col("analyte").replace_strict(units).alias("unit"), pl.lit("lab").alias("source")
    )
    visits = _frame(
        "visits",
        {
            "participant_id": pid,
            "visit_id": vid,
            "target_day": day,
            "actual_date": [START + dt.timedelta(days=int(d)) for d in day],
            "study_day": day,
        },
    )
    return StudyData(
        meta=StudyMeta(study_id="fixture", protocol=protocol),
        participants=participants,
        visits=visits,
        measurements=_frame("measurements", meas.to_dict(as_series=False)),
        infusions=_infusions(ids),
        lots=_lots(),
        adverse_events=_adverse_events().filter(pl.col("participant_id").is_in(ids)),
        medications=_medications(ids),
    )


def _lots() -> pl.DataFrame:
    # the lot the infusions name, released and passing lian2022's release tests (ISCT)
    markers = {f"{m}_pct": [99.0] for m in ("cd73", "cd90", "cd105")}
    markers |= {f"{m}_pct": [0.5] for m in ("cd45", "cd34", "cd14_cd11b", "cd79a_cd19", "hla_dr")}
    return _frame(
        "lots",
        {
            "lot_id": ["L1"],
            "cells_per_unit": [1e8],
            "volume_ml": [100.0],
            "viability_pct": [94.0],
            "plastic_adherent": [True],
            **markers,
            "sterility": ["pass"],
            "endotoxin_eu_ml": [0.1],
            "mycoplasma": ["negative"],
            "expiry_date": [START + dt.timedelta(days=365)],
            "release_status": ["released"],
        },
    )


def _infusions(ids: list[str]) -> pl.DataFrame:
    n = len(ids)
    days = [7, 14, 21]
    return _frame(
        "infusions",
        {
            "infusion_id": [f"{p}-I{k + 1}" for p in ids for k in range(3)],
            "participant_id": np.repeat(ids, 3),
            "lot_id": ["L1"] * 3 * n,
            "infusion_number": [k + 1 for _ in ids for k in range(3)],
            "start_time": [
                dt.datetime.combine(START + dt.timedelta(days=d), dt.time(9))
                for _ in ids
                for d in days
            ],
            "dose_cells": [7e7] * 3 * n,
            "weight_kg": [70.0] * 3 * n,
        },
    )


def _adverse_events() -> pl.DataFrame:
    # Three fevers after infusions 2 and 3 (hours after: 10, 30, 6) and one hypoglycaemia.
    def t(d: int, h: float) -> dt.datetime:
        return dt.datetime.combine(START + dt.timedelta(days=d), dt.time(9)) + dt.timedelta(hours=h)

    return _frame(
        "adverse_events",
        {
            "participant_id": ["P01", "P01", "P02", "P03"],
            "ae_id": ["A1", "A2", "A3", "A4"],
            "term": ["fever", "fever", "fever", "hypoglycaemia"],
            "onset_time": [t(14, 10), t(21, 30), t(21, 6), t(28, 200)],
            "serious": [False, False, False, False],
            "infusion_id": ["P01-I2", None, "P02-I3", None],
        },
    )


def _medications(ids: list[str]) -> pl.DataFrame:
    # Everyone on metformin 2000 mg; first half also on insulin 30 U/day reduced at d28.
    # end_date is the last day taken (inclusive): the 30 U period ends the day before d28.
    half = ids[: len(ids) // 2]
    d28 = START + dt.timedelta(days=28)
    return _frame(
        "medications",
        {
            "participant_id": [*ids, *half, *half],
            "drug": ["metformin"] * len(ids) + ["insulin glargine"] * 2 * len(half),
            "atc_code": ["A10BA02"] * len(ids) + ["A10AE04"] * 2 * len(half),
            "daily_dose": [2000.0] * len(ids) + [30.0] * len(half) + [10.0] * len(half),
            "dose_unit": ["mg"] * len(ids) + ["U"] * 2 * len(half),
            "start_date": [START - dt.timedelta(days=60)] * (len(ids) + len(half))
            + [d28] * len(half),
            "end_date": [None] * len(ids)
            + [d28 - dt.timedelta(days=1)] * len(half)
            + [None] * len(half),
        },
    )


@pytest.fixture
def study() -> StudyData:
    return make_study()


@pytest.fixture
def study_factory():
    return make_study
