"""Visits the registry keeps: the protocol's schedule from the first infusion (or the
enrolment), each visit's actual date from the values assigned to it, and its window
status, all computed by celltrial.protocol.windows."""

from __future__ import annotations

import polars as pl

from celltrial.data import StudyData
from celltrial.data.schema import TABLES
from celltrial.protocol import Protocol, anchor_dates, assign_visits, visits_table
from celltrial.protocol.windows import NO_ANCHOR, UNKNOWN_VISIT, visit_frame
from celltrial.registry.services.errors import Problem, Refused


def placed(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    """The measurements with visit_id filled from the protocol windows (a visit id entered
    by hand is kept); a visit id the protocol lacks is refused."""
    assigned = assign_visits(study.measurements, anchor_dates(study, protocol), protocol)
    unknown = assigned.filter(pl.col("visit_status") == UNKNOWN_VISIT)
    if unknown.height:
        known = ", ".join(v.id for v in protocol.visits)
        raise Refused(
            [
                Problem("visit_id", f"visit not in protocol {protocol.id} (visits: {known})", v)
                for v in unknown["visit_id"].unique().to_list()
            ]
        )
    return assigned


def planned_visits(study: StudyData, assigned: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """The visits table the protocol gives for these participants: every scheduled visit
    once an anchor exists, and before it the visits values were entered for (a baseline
    before the first infusion)."""
    anchors = anchor_dates(study, protocol)
    scheduled = visits_table(assigned, anchors, protocol)
    early = (
        assigned.filter((pl.col("visit_status") == NO_ANCHOR) & pl.col("visit_id").is_not_null())
        .group_by("participant_id", "visit_id")
        .agg(pl.col("time").min().cast(pl.Date).alias("actual_date"))
        .join(visit_frame(protocol).select("visit_id", "target_day"), on="visit_id")
        .with_columns(
            pl.lit(None, pl.Int64).alias("study_day"), pl.lit(None, pl.Boolean).alias("in_window")
        )
        .join(scheduled, on=["participant_id", "visit_id"], how="anti")
    )
    columns = [c.name for c in TABLES["visits"].columns]
    return pl.concat([scheduled.select(columns), early.select(columns)], how="vertical_relaxed")


def visit_changes(current: pl.DataFrame, planned: pl.DataFrame) -> pl.DataFrame:
    """Planned visit rows that are new or differ from the stored ones (`_new` marks new)."""
    key = ["participant_id", "visit_id"]
    joined = planned.join(current, on=key, how="left", suffix="_now", nulls_equal=True)
    values = [c for c in planned.columns if c not in key]
    differs = pl.any_horizontal(
        *[pl.col(c).ne_missing(pl.col(f"{c}_now")) for c in values if c != "target_day"],
        pl.col("target_day").ne_missing(pl.col("target_day_now")),
    )
    present = current.select(key).with_columns(pl.lit(False).alias("_new"))
    return (
        joined.filter(differs)
        .select(planned.columns)
        .join(present, on=key, how="left")
        .with_columns(pl.col("_new").fill_null(True))
    )
