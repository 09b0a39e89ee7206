"""What a site has to do, for the study dashboard (issue 12): enrolment over time, visits
due this week, overdue and out of window, missing primary-outcome values, open data
queries, adverse events awaiting review and long-term follow-up visits due. Computed by
celltrial.protocol on the member's participants, as frames."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData, StudyMeta
from celltrial.protocol import Protocol, anchor_dates, visit_dates
from celltrial.registry.models import DataQuery, Membership
from celltrial.registry.models.queries import OPEN
from celltrial.registry.services.access import visible_participants, visible_rows
from celltrial.registry.services.frames import frame_of
from celltrial.registry.services.protocols import study_protocol

WEEK = dt.timedelta(days=7)
# long-term follow-up visits (the protocol's `extension: true` visits, lian2022 m6-m36)
FOLLOW_UP_NOTICE = dt.timedelta(days=30)  # shown a month ahead, to book the visit
# ICH E2A / CTCAE: an event is reviewed once its relatedness and outcome are assessed
REVIEW_FIELDS = ("related", "outcome")


@dataclass
class Worklist:
    enrolment: pl.DataFrame  # month, enrolled, cumulative
    due: pl.DataFrame  # participant_id, visit_id, target_date, window_start, window_end
    overdue: pl.DataFrame
    out_of_window: pl.DataFrame  # participant_id, visit_id, actual_date, study_day
    missing: pl.DataFrame  # participant_id, visit_id, analyte
    open_queries: int
    ae_review: pl.DataFrame  # participant_id, ae_id, term, grade, serious
    follow_up: pl.DataFrame  # participant_id, visit_id, target_date, window_end


def _frame(member: Membership, table: str, columns: tuple[str, ...] | None = None) -> pl.DataFrame:
    frame = frame_of(visible_rows(member, table), table)
    return frame if columns is None else frame.select(columns)


def _light_study(member: Membership, tables: tuple[str, ...]) -> StudyData:
    """StudyData with only the tables the dashboard reads (the rest empty)."""
    frames = {
        t: _frame(member, t) if t in tables else pl.DataFrame(schema=TABLES[t].polars_schema)
        for t in TABLES
    }
    s = member.study
    return StudyData(StudyMeta(s.study_id, s.protocol, s.format_version, s.title), **frames)


def enrolment(participants: pl.DataFrame) -> pl.DataFrame:
    return (
        participants.select(pl.col("enrollment_date").dt.truncate("1mo").alias("month"))
        .group_by("month")
        .agg(pl.len().alias("enrolled"))
        .sort("month")
        .with_columns(pl.col("enrolled").cum_sum().alias("cumulative"))
    )


def schedule_status(
    study: StudyData, protocol: Protocol, today: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Visits due in the coming week, overdue (window closed, no date) and long-term
    follow-up visits (the protocol's extension visits) whose target date is at most a
    month ahead and whose window is still open, from the protocol's windows."""
    planned = visit_dates(anchor_dates(study, protocol), protocol)
    done = study.visits.filter(pl.col("actual_date").is_not_null()).select(
        "participant_id", "visit_id"
    )
    pending = planned.join(done, on=["participant_id", "visit_id"], how="anti")
    due = pending.filter((pl.col("target_date") <= today + WEEK) & (pl.col("window_end") >= today))
    overdue = pending.filter(pl.col("window_end") < today)
    follow_up = pending.filter(
        pl.col("extension")
        & (pl.col("target_date") <= today + FOLLOW_UP_NOTICE)
        & (pl.col("window_end") >= today)
    )
    return due, overdue, follow_up


def primary_measured(protocol: Protocol) -> list:
    """The protocol's primary outcomes measured at visits (not derived from others)."""
    return [o for o in protocol.outcomes if o.primary and not o.derived]


def missing_outcomes(
    study: StudyData, measurements: pl.DataFrame, protocol: Protocol
) -> pl.DataFrame:
    """Primary measured outcomes (not derived) lacking at a visit that took place."""
    wanted = primary_measured(protocol)
    if not wanted:
        return pl.DataFrame(
            schema={"participant_id": pl.Utf8, "visit_id": pl.Utf8, "analyte": pl.Utf8}
        )
    plan = pl.DataFrame(
        [
            (o.analyte, v.id)
            for o in wanted
            for v in protocol.visits
            if not o.visits or v.id in o.visits
        ],
        schema={"analyte": pl.Utf8, "visit_id": pl.Utf8},
        orient="row",
    )
    took_place = study.visits.filter(pl.col("actual_date").is_not_null()).select(
        "participant_id", "visit_id"
    )
    expected = took_place.join(plan, on="visit_id")
    return expected.join(
        measurements, on=["participant_id", "visit_id", "analyte"], how="anti"
    ).sort("participant_id", "visit_id", "analyte")


def worklist(member: Membership, today: dt.date | None = None) -> Worklist:
    today = today or dt.date.today()
    study = _light_study(member, ("participants", "infusions", "visits"))
    protocol = study_protocol(member.study)
    # only the analytes missing_outcomes looks for: the study's other values are most rows
    analytes = [o.analyte for o in primary_measured(protocol)] if protocol else []
    measured = pl.DataFrame(
        list(
            visible_rows(member, "measurements")
            .filter(analyte__in=analytes)
            .values_list("participant_id", "visit_id", "analyte")
            .distinct()
        ),
        schema={"participant_id": pl.Utf8, "visit_id": pl.Utf8, "analyte": pl.Utf8},
        orient="row",
    )
    empty = pl.DataFrame(schema={"participant_id": pl.Utf8, "visit_id": pl.Utf8})
    if protocol is None:
        due = overdue = follow_up = missing = empty
    else:
        due, overdue, follow_up = schedule_status(study, protocol, today)
        missing = missing_outcomes(study, measured, protocol)
    aes = _frame(member, "adverse_events")
    review = aes.filter(pl.any_horizontal(pl.col(c).is_null() for c in REVIEW_FIELDS))
    queries = DataQuery.objects.filter(
        study=member.study,
        status=OPEN,
        participant_id__in=visible_participants(member).values("participant_id"),
    ).count()
    return Worklist(
        enrolment=enrolment(study.participants),
        due=due,
        overdue=overdue,
        out_of_window=study.visits.filter(pl.col("in_window") == False),  # noqa: E712
        missing=missing,
        open_queries=queries,
        ae_review=review.select("participant_id", "ae_id", "term", "grade", "serious"),
        follow_up=follow_up,
    )
