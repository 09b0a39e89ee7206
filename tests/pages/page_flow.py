"""What the page tests and the browser tests share: the example study, the test password,
dates relative to today, and form values (a lab panel, a lot that passes release)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from celltrial.clinical.analytes import ANALYTES

ROOT = Path(__file__).resolve().parents[2]
SMALL_STUDY = ROOT / "examples" / "small-study"
PASSWORD = "a-long-test-passphrase-42"
TODAY = dt.date.today()


def day(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


def at(n: int, hour: int = 9) -> str:
    return f"{day(n)}T{hour:02d}:00"


def panel(time: str, **values) -> dict:
    """A lab panel post: each analyte in its canonical unit unless (value, unit) given."""
    data = {"time": time, "fasting": "true"}
    for a, v in values.items():
        value, unit = v if isinstance(v, tuple) else (v, ANALYTES[a].unit)
        data[f"value_{a}"], data[f"unit_{a}"] = str(value), unit
    return data


def lot_form(lot_id: str) -> dict:
    """A lot that passes every release test of lian2022 (ISCT: >= 95 % positive, <= 2 %
    negative markers, viability >= 70 %, sterile, mycoplasma negative, endotoxin <= 0.5)."""
    good = {f"{m}_pct": "99" for m in ("cd73", "cd90", "cd105")}
    good |= {f"{m}_pct": "0.5" for m in ("cd45", "cd34", "cd14_cd11b", "cd79a_cd19", "hla_dr")}
    return {
        "lot_id": lot_id, "donor_id": "D9", "source_tissue": "umbilical cord", "passage": "4",
        "cells_per_unit": "1e8", "volume_ml": "100", "viability_pct": "95",
        "plastic_adherent": "true", "sterility": "pass", "endotoxin_eu_ml": "0.1",
        "mycoplasma": "negative", "manufacture_date": day(-30), "expiry_date": day(300),
        "storage": "LN2", "release_status": "released", **good,
    }  # fmt: skip
