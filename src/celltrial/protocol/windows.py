"""Visit windows: the one place where dates become study days and visits.

Study day convention: day 0 is the anchor date (first infusion or enrolment, per protocol)
and day n is n calendar days later, negative before it. This follows Lian 2022, which
counts "day 0 ± 3" and "day -56 ± 3" (seed L141); note that CDISC SDTM --DY has no day 0
(SDTMIG 3.4 section 4.4.4), so day n >= 0 here is SDTM day n + 1.

A value belongs to a visit when target_day - window_before <= study_day <= target_day +
window_after (both edges inclusive, as "day 14 ± 3" includes days 11 and 17), the same
rule as clinicedc edc_visit_schedule's Window (rlower/rupper). Windows of one protocol are
disjoint (loader.py checks it), so a day falls in at most one window.
"""

from __future__ import annotations

import polars as pl

from celltrial.data.study import StudyData
from celltrial.protocol.model import Protocol

IN_WINDOW = "in_window"
OUT_OF_WINDOW = "out_of_window"  # entered for a visit, but its date is outside the window
UNSCHEDULED = "unscheduled"  # no visit entered and no window holds the date
UNKNOWN_VISIT = "unknown_visit"  # entered for a visit id the protocol does not have ("D14")
NO_ANCHOR = "no_anchor"  # the participant has no anchor date (e.g. not yet infused)


def visit_frame(protocol: Protocol) -> pl.DataFrame:
    """The protocol's visits as a small frame, in schedule order; `extension` marks the
    visits added to the paper's schedule (lian2022's long-term follow-up)."""
    return pl.DataFrame(
        {
            "visit_id": [v.id for v in protocol.visits],
            "target_day": [v.target_day for v in protocol.visits],
            "lower_day": [v.lower_day for v in protocol.visits],
            "upper_day": [v.upper_day for v in protocol.visits],
            "baseline": [v.baseline for v in protocol.visits],
            "extension": [v.extension for v in protocol.visits],
        },
        schema={
            "visit_id": pl.Utf8,
            "target_day": pl.Int64,
            "lower_day": pl.Int64,
            "upper_day": pl.Int64,
            "baseline": pl.Boolean,
            "extension": pl.Boolean,
        },
    ).sort("target_day")


def anchor_dates(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    """participant_id, anchor_date: the first infusion's date or the enrolment date."""
    if protocol.anchor == "first_infusion":
        return (
            study.infusions.group_by("participant_id")
            .agg(pl.col("start_time").min().cast(pl.Date).alias("anchor_date"))
            .sort("participant_id")
        )
    return study.participants.select(
        "participant_id", pl.col("enrollment_date").alias("anchor_date")
    )


def visit_dates(anchors: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """Per participant and visit: target date, first and last day of the window, and whether
    the visit is an extension of the paper's schedule."""
    days = visit_frame(protocol)

    def shift(col: str) -> pl.Expr:
        return pl.col("anchor_date") + pl.duration(days=pl.col(col))

    return (
        anchors.lazy()
        .select("participant_id", pl.col("anchor_date").cast(pl.Date))
        .join(days.lazy(), how="cross")
        .with_columns(
            shift("target_day").alias("target_date"),
            shift("lower_day").alias("window_start"),
            shift("upper_day").alias("window_end"),
        )
        .drop("lower_day", "upper_day")
        .sort("participant_id", "target_day")
        .collect()
    )


def assign_visits(
    measurements: pl.DataFrame,
    anchors: pl.DataFrame,
    protocol: Protocol,
    *,
    reassign: bool = False,
) -> pl.DataFrame:
    """Add study_day, target_day, in_window and visit_status; fill visit_id from the window.

    A value entered for a protocol visit keeps it (flagged out_of_window when its date is
    outside that window) unless `reassign` is true; a value entered for a visit id the
    protocol does not have keeps that id with visit_status "unknown_visit"; a value without
    a visit gets the visit whose window holds its date, or stays null with visit_status
    "unscheduled". Row order and every other column are kept.
    """
    days = visit_frame(protocol)
    # one lazy query, not a dozen eager steps: the registry places a participant's few
    # values on every write, where each step's fixed cost would dominate
    base = (
        measurements.lazy()
        .with_row_index("_row")
        .join(
            anchors.lazy().select("participant_id", pl.col("anchor_date").cast(pl.Date)),
            on="participant_id",
            how="left",
        )
        .with_columns(
            (pl.col("time").cast(pl.Date) - pl.col("anchor_date"))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("study_day")
        )
    )
    by_window = (
        base.select("_row", "study_day")
        .drop_nulls("study_day")
        .join(days.lazy().select("visit_id", "lower_day", "upper_day"), how="cross")
        .filter(pl.col("study_day").is_between(pl.col("lower_day"), pl.col("upper_day")))
        .select("_row", pl.col("visit_id").alias("_window_visit"))
        .unique("_row", keep="first")
    )
    entered = pl.lit(None, pl.Utf8)
    if not reassign and "visit_id" in measurements.columns:
        typed = pl.col("visit_id").cast(pl.Utf8)
        entered = pl.when(typed.str.strip_chars() == "").then(None).otherwise(typed)
    out = (
        base.join(by_window, on="_row", how="left")
        .with_columns(pl.coalesce(entered, pl.col("_window_visit")).alias("visit_id"))
        .drop("target_day", strict=False)
        .join(days.lazy().drop("baseline", "extension"), on="visit_id", how="left")
        .with_columns(
            # a typo ("D14") must not pass as an unscheduled value: it is a data error
            pl.when(entered.is_not_null() & ~entered.is_in(days["visit_id"].to_list()))
            .then(pl.lit(UNKNOWN_VISIT))
            .when(pl.col("anchor_date").is_null())
            .then(pl.lit(NO_ANCHOR))
            .when(pl.col("target_day").is_null())
            .then(pl.lit(UNSCHEDULED))
            .when(pl.col("study_day").is_between(pl.col("lower_day"), pl.col("upper_day")))
            .then(pl.lit(IN_WINDOW))
            .otherwise(pl.lit(OUT_OF_WINDOW))
            .alias("visit_status")
        )
        .with_columns((pl.col("visit_status") == IN_WINDOW).alias("in_window"))
        .sort("_row")
    )
    front = [c for c in measurements.columns if c not in {"study_day", "in_window", "target_day"}]
    if "visit_id" not in front:
        front.append("visit_id")
    return out.select(*front, "study_day", "target_day", "in_window", "visit_status").collect()


def visits_table(assigned: pl.DataFrame, anchors: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """The StudyData visits table from assigned measurements: one row per participant and
    scheduled visit; actual_date is the earliest date of a value assigned to the visit
    (null when none was measured)."""
    seen = (
        assigned.lazy()
        .filter(pl.col("visit_status").is_in([IN_WINDOW, OUT_OF_WINDOW]))
        .group_by("participant_id", "visit_id")
        .agg(pl.col("time").min().cast(pl.Date).alias("actual_date"))
    )
    return (
        visit_dates(anchors, protocol)
        .lazy()
        .join(seen, on=["participant_id", "visit_id"], how="left")
        .with_columns(
            (pl.col("actual_date") - pl.col("anchor_date"))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("study_day")
        )
        .with_columns(
            pl.when(pl.col("actual_date").is_null())
            .then(None)
            .otherwise(pl.col("actual_date").is_between("window_start", "window_end"))
            .alias("in_window")
        )
        .select("participant_id", "visit_id", "target_day", "actual_date", "study_day", "in_window")
        .collect()
    )


def unknown_visits(measurements: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """visit_id, n_values, participants: visit ids entered in the measurements that the
    protocol does not have (typos such as "D14"), for screen and analysis to report."""
    known = [v.id for v in protocol.visits]
    return (
        measurements.filter(
            pl.col("visit_id").is_not_null()
            & (pl.col("visit_id").str.strip_chars() != "")
            & ~pl.col("visit_id").is_in(known)
        )
        .group_by("visit_id")
        .agg(
            pl.len().alias("n_values"),
            pl.col("participant_id").unique().sort().str.join(", ").alias("participants"),
        )
        .sort("visit_id")
    )
