"""Lot release edge cases (ISCT thresholds inclusive) and dose arithmetic by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from celltrial.data.schema import empty_frame
from celltrial.data.study import StudyData, StudyMeta
from celltrial.protocol import load_protocol
from celltrial.protocol.dosing import check_infusions, compute_dose
from celltrial.protocol.lots import release_lots

LIAN, CHIN = load_protocol("lian2022"), load_protocol("chin2025")
GOOD = {
    "lot_id": "L1",
    "cells_per_unit": 1.0e8,
    "volume_ml": 100.0,
    "viability_pct": 92.0,
    "plastic_adherent": True,
    "cd73_pct": 99.0,
    "cd90_pct": 98.0,
    "cd105_pct": 95.0,  # exactly the ISCT minimum
    "cd45_pct": 2.0,  # exactly the ISCT maximum
    "cd34_pct": 0.3,
    "cd14_cd11b_pct": 0.2,
    "cd79a_cd19_pct": 0.1,
    "hla_dr_pct": 0.5,
    "sterility": "pass",
    "mycoplasma": "negative",
    "endotoxin_eu_ml": 0.5,
    "expiry_date": dt.date(2022, 1, 31),
    "release_status": "released",
}


def _lots(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.concat(
        [empty_frame("lots"), pl.DataFrame(list(rows), schema_overrides={"expiry_date": pl.Date})],
        how="diagonal_relaxed",
    )


@pytest.mark.parametrize(
    ("change", "released", "fragment"),
    [
        ({}, True, None),
        ({"cd105_pct": 94.99}, False, "CD105"),
        ({"cd45_pct": 2.01}, False, "CD45"),
        ({"hla_dr_pct": None}, False, "hla_dr_pct missing"),
        ({"plastic_adherent": False}, False, "plastic"),
        ({"sterility": "FAIL"}, False, "sterility"),
        ({"sterility": " Pass "}, True, None),
        ({"mycoplasma": "positive"}, False, "mycoplasma"),
        ({"endotoxin_eu_ml": 0.51}, False, "endotoxin"),
        ({"viability_pct": 69.9}, False, "viability"),
        ({"release_status": "quarantine"}, False, "quarantine"),
    ],
)
def test_release_rules(change: dict[str, object], released: bool, fragment: str | None) -> None:
    row = release_lots(_lots(GOOD | change), LIAN.lot_release).row(0, named=True)
    assert row["released"] is released
    if fragment:
        assert any(fragment in r for r in row["reasons"])


def test_expiry_is_inclusive_of_the_expiry_day() -> None:
    lots = _lots(GOOD)
    assert release_lots(lots, LIAN.lot_release, dt.date(2022, 1, 31))["released"].item()
    late = release_lots(lots, LIAN.lot_release, dt.date(2022, 2, 1)).row(0, named=True)
    assert not late["released"] and "expired" in late["reasons"][0]


def test_weight_based_dose_by_hand() -> None:
    # 1e6 cells/kg x 68.4 kg = 6.84e7 cells; lot 1e8 cells in 100 mL = 1e6 cells/mL,
    # so 68.4 mL, 0.684 of a bag.
    plan = compute_dose(68.4, LIAN, GOOD, dt.date(2021, 5, 1))
    assert plan.accepted and plan.reasons == []
    assert plan.dose_cells == pytest.approx(6.84e7)
    assert plan.volume_ml == pytest.approx(68.4)
    assert plan.units == pytest.approx(0.684)


def test_weight_based_tolerance_edges() -> None:
    # 70 kg -> 7.0e7; +-10 % accepts 6.3e7..7.7e7.
    assert compute_dose(70, LIAN, GOOD, dt.date(2021, 5, 1), requested_cells=7.7e7).accepted
    refused = compute_dose(70, LIAN, GOOD, dt.date(2021, 5, 1), requested_cells=7.71e7)
    assert not refused.accepted and "10.0 %" in refused.reasons[0]
    assert not compute_dose(None, LIAN, GOOD, dt.date(2021, 5, 1)).accepted


def test_flat_dose_range_inclusive() -> None:
    # No request: the protocol's flat target of 1e8 cells = one whole bag of 100 mL.
    plan = compute_dose(80, CHIN, GOOD, dt.date(2021, 5, 1))
    assert (plan.dose_cells, plan.volume_ml, plan.dose_cells_per_kg) == (1e8, 100.0, 1.25e6)
    assert compute_dose(80, CHIN, GOOD, dt.date(2021, 5, 1), requested_cells=5e7).accepted
    assert not compute_dose(80, CHIN, GOOD, dt.date(2021, 5, 1), requested_cells=4.9e7).accepted
    assert not compute_dose(80, CHIN, GOOD, dt.date(2021, 5, 1), requested_cells=1.01e8).accepted


def test_unreleased_or_expired_lot_refuses_the_dose() -> None:
    plan = compute_dose(70, LIAN, GOOD | {"mycoplasma": "positive"}, dt.date(2022, 3, 1))
    assert not plan.accepted
    assert any("mycoplasma" in r for r in plan.reasons)
    assert any("expired" in r for r in plan.reasons)


def test_check_infusions_flags_unknown_lot_and_a_fourth_infusion() -> None:
    starts = [dt.datetime(2021, 5, d, 9) for d in (1, 8, 15, 22)]
    infusions = pl.DataFrame(
        {
            "infusion_id": ["i1", "i2", "i3", "i4"],
            "participant_id": ["p1"] * 4,
            "lot_id": ["L1", "L1", "L9", "L1"],
            "start_time": starts,
            "dose_cells": [7.0e7] * 4,
            "weight_kg": [70.0] * 4,
        }
    )
    study = StudyData(StudyMeta("t"), lots=_lots(GOOD)).with_table("infusions", infusions)
    out = check_infusions(study, LIAN)
    assert out["accepted"].to_list() == [True, True, False, False]
    assert out["reasons"][2].to_list() == ["lot L9 not found"]
    assert "infusion 4" in out["reasons"][3][0]
