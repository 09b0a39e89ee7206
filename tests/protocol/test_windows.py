"""Visit windows: edges inclusive (day 11 and 17 belong to day 14 ± 3), day 0 = anchor."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from celltrial.data.study import StudyData, StudyMeta
from celltrial.protocol import load_protocol
from celltrial.protocol.windows import (
    anchor_dates,
    assign_visits,
    unknown_visits,
    visit_dates,
    visits_table,
)

LIAN = load_protocol("lian2022")
ANCHOR = dt.date(2021, 3, 1)
ANCHORS = pl.DataFrame({"participant_id": ["p1"], "anchor_date": [ANCHOR]})


def _at(days: list[int], visit_ids: list[str | None] | None = None) -> pl.DataFrame:
    times = [dt.datetime.combine(ANCHOR + dt.timedelta(days=d), dt.time(8)) for d in days]
    return pl.DataFrame(
        {
            "participant_id": ["p1"] * len(days),
            "visit_id": visit_ids or [None] * len(days),
            "time": times,
            "analyte": ["fpg"] * len(days),
            "value": [7.0] * len(days),
        },
        schema_overrides={"visit_id": pl.Utf8},
    )


@pytest.mark.parametrize(
    ("day", "visit", "status"),
    [
        (10, None, "unscheduled"),
        (11, "d14", "in_window"),
        (14, "d14", "in_window"),
        (17, "d14", "in_window"),
        (18, "d21", "in_window"),
        (-3, "d0", "in_window"),
        (0, "d0", "in_window"),  # the first infusion day closes the baseline window
        (1, None, "unscheduled"),  # after the first infusion: never baseline (L156)
        (-4, None, "unscheduled"),
        (87, "d84", "in_window"),
        (88, None, "unscheduled"),
    ],
)
def test_window_edges(day: int, visit: str | None, status: str) -> None:
    row = assign_visits(_at([day]), ANCHORS, LIAN).row(0, named=True)
    assert (row["visit_id"], row["visit_status"], row["study_day"]) == (visit, status, day)
    assert row["in_window"] is (status == "in_window")


def test_entered_visit_outside_its_window_is_flagged_not_moved() -> None:
    out = assign_visits(_at([19, 19], ["d14", None]), ANCHORS, LIAN)
    assert out["visit_id"].to_list() == ["d14", "d21"]
    assert out["visit_status"].to_list() == ["out_of_window", "in_window"]
    again = assign_visits(_at([19], ["d14"]), ANCHORS, LIAN, reassign=True)
    assert again["visit_id"].to_list() == ["d21"]


def test_participant_without_anchor_and_order_and_columns_kept() -> None:
    frame = pl.concat([_at([28, 0]), _at([5]).with_columns(pl.lit("p9").alias("participant_id"))])
    out = assign_visits(frame, ANCHORS, LIAN)
    assert out["value"].to_list() == frame["value"].to_list()
    assert out["visit_id"].to_list() == ["d28", "d0", None]
    assert out["visit_status"].to_list()[2] == "no_anchor"


def test_visit_dates_are_anchor_plus_days() -> None:
    d14 = visit_dates(ANCHORS, LIAN).filter(pl.col("visit_id") == "d14").row(0, named=True)
    # 2021-03-01 + 14 days = 2021-03-15; window 03-12 .. 03-18 (counted on a calendar).
    assert d14["target_date"] == dt.date(2021, 3, 15)
    assert (d14["window_start"], d14["window_end"]) == (dt.date(2021, 3, 12), dt.date(2021, 3, 18))


def test_anchor_is_first_infusion_date() -> None:
    infusions = pl.DataFrame(
        {
            "participant_id": ["p1", "p1"],
            "start_time": [dt.datetime(2021, 3, 8, 10), dt.datetime(2021, 3, 1, 9)],
        }
    )
    study = StudyData(StudyMeta("s")).with_table("infusions", infusions)
    assert anchor_dates(study, LIAN)["anchor_date"].to_list() == [ANCHOR]


def test_visits_table_takes_earliest_assigned_date() -> None:
    assigned = assign_visits(_at([13, 12, 40]), ANCHORS, LIAN)
    table = visits_table(assigned, ANCHORS, LIAN).filter(pl.col("visit_id") == "d14")
    assert table.row(0, named=True)["study_day"] == 12
    assert len(visits_table(assigned, ANCHORS, LIAN)) == len(LIAN.visits)


def test_unknown_visit_id_is_reported_not_unscheduled() -> None:
    # "D14" is not a lian2022 visit id (ids are case-sensitive: d14)
    out = assign_visits(_at([14, 14, 14], ["D14", "d14", None]), ANCHORS, LIAN)
    assert out["visit_id"].to_list() == ["D14", "d14", "d14"]
    assert out["visit_status"].to_list() == ["unknown_visit", "in_window", "in_window"]
    assert out["in_window"].to_list() == [False, True, True]
    listed = unknown_visits(_at([14, 21], ["D14", "D14"]), LIAN)
    assert listed.rows() == [("D14", 2, "p1")]
