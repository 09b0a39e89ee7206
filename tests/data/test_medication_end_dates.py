"""A medication end date on a visit date is ambiguous (issue 10): end_date is the last day
taken (inclusive), so validate warns that the drug counts as taken at that visit."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

from celltrial.data import read_study, validate

SMALL = Path(__file__).parents[2] / "examples" / "small-study"


def _end_on(tmp_path: Path, day: dt.date) -> tuple[Path, int]:
    """small-study with P02's metformin (medications row 2) ending on `day`."""
    folder = tmp_path / "study"
    shutil.copytree(SMALL, folder)
    file = folder / "medications.csv"
    meds = pl.read_csv(file, infer_schema=False)
    assert meds.row(1)[:2] == ("P02", "metformin")
    at = pl.int_range(pl.len()) == 1
    end = pl.when(at).then(pl.lit(day.isoformat())).otherwise(pl.col("end_date"))
    meds.with_columns(end.alias("end_date")).write_csv(file)
    return folder, 2


def _p02_visit(visit_id: str) -> dt.date:
    visits = pl.read_csv(SMALL / "visits.csv", infer_schema=False)
    hit = visits.filter((pl.col("participant_id") == "P02") & (pl.col("visit_id") == visit_id))
    return dt.date.fromisoformat(hit["actual_date"].item())


def _medication_findings(folder: Path) -> pl.DataFrame:
    found = validate(read_study(folder, check="skip")).frame
    return found.filter(pl.col("table") == "medications")


@pytest.mark.parametrize("visit_id", ["d28", "d84"])
def test_an_end_date_on_a_visit_date_is_a_warning_naming_the_visit(tmp_path, visit_id):
    day = _p02_visit(visit_id)
    folder, row = _end_on(tmp_path, day)
    found = _medication_findings(folder)
    assert found.select("severity", "row", "column", "value").rows() == [
        ("warning", row, "end_date", day.isoformat())
    ]
    assert (
        found["rule"]
        .item()
        .startswith(
            f"medication ends on the date of visit {visit_id}: end_date is the last day taken"
        )
    )


@pytest.mark.parametrize("days", [-1, 1])
def test_an_end_date_beside_a_visit_is_not(tmp_path, days):
    folder, _ = _end_on(tmp_path, _p02_visit("d28") + dt.timedelta(days=days))
    assert _medication_findings(folder).height == 0


def test_another_participants_visit_date_does_not_count(tmp_path):
    visits = pl.read_csv(SMALL / "visits.csv", infer_schema=False)
    p02 = set(visits.filter(pl.col("participant_id") == "P02")["actual_date"])
    others = visits.filter(~pl.col("actual_date").is_in(list(p02)))["actual_date"]
    folder, _ = _end_on(tmp_path, dt.date.fromisoformat(others[0]))
    assert _medication_findings(folder).height == 0
