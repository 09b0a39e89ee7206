"""A study against its protocol: what `celltrial validate` and analyze_study report beyond
the rules of the data (celltrial.data.validate), each finding naming file, row, column,
value and rule. The rules themselves are the protocol package's own: dosing.dose_failure
and beyond_plan, lots.lot_failures, windows.assign_visits.

Severities: a lot marked released that fails the protocol's release tests is an error, and
so is every infusion given from it (the data contradict the protocol's release rule; a lot
not marked released is data validation's error already). Doses outside the protocol's
dosing rule, infusions beyond its plan, visits outside their window or not in the protocol,
and screening answers to criteria it does not define are protocol deviations the data
record faithfully: warnings, to be documented, not errors that stop the analysis.
"""

from __future__ import annotations

import polars as pl

from celltrial.data.findings import ERROR, WARNING, Findings, concat_findings
from celltrial.data.study import StudyData
from celltrial.data.validation import ROW, row_findings, rows_of, unknown_values, validate
from celltrial.protocol.dosing import beyond_plan, dose_failure
from celltrial.protocol.lots import lot_failures
from celltrial.protocol.model import Protocol
from celltrial.protocol.windows import (
    OUT_OF_WINDOW,
    UNKNOWN_VISIT,
    anchor_dates,
    assign_visits,
    visit_frame,
)


def study_findings(study: StudyData, protocol: Protocol | None) -> Findings:
    """Every finding of `study`: validate(), then, with a protocol, protocol_findings()."""
    found = validate(study)
    if protocol is None:
        return found
    return Findings(concat_findings([found.frame, protocol_findings(study, protocol)]))


def protocol_findings(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    """Findings of `study` against `protocol` (a findings frame, FINDING_SCHEMA)."""
    return concat_findings(
        [
            _criteria(study, protocol),
            *_lots(study, protocol),
            *_doses(study, protocol),
            *_windows(study, protocol),
        ]
    )


def _criteria(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    known = [c.id for c in protocol.eligibility]
    show = f"celltrial protocol show {protocol.id}"
    rule = f"criterion not defined by protocol {protocol.id} (see `{show}`)"
    return unknown_values(study, "screening", "criterion_id", known, rule, WARNING)


def _failing_lots(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    """Lots marked with the protocol's release status that break another release rule:
    lot_id, ROW (their file row) and _reasons (text). Expiry is data validation's rule, on
    the infusion date."""
    spec = protocol.lot_release
    status = pl.col("release_status").str.strip_chars().str.to_lowercase()
    lots = rows_of(study, "lots")
    if lots.height == 0:
        return lots.select("lot_id", ROW, pl.lit("").alias("_reasons"), "release_status")
    return (
        lots.with_columns(lot_failures(spec).list.join("; ").alias("_reasons"))
        .filter((status == spec.require_status) & (pl.col("_reasons") != ""))
        .select("lot_id", ROW, "_reasons", "release_status")
    )


def _lots(study: StudyData, protocol: Protocol) -> list[pl.DataFrame]:
    failing = _failing_lots(study, protocol)
    if failing.height == 0:
        return []
    tests = f"protocol {protocol.id}'s release tests"
    lot_rule = pl.format("marked released, but fails {}: {}", pl.lit(tests), "_reasons")
    infusions = rows_of(study, "infusions").join(
        failing.select("lot_id", pl.col(ROW).alias("_lot_row"), "_reasons"),
        on="lot_id",
        how="inner",
        maintain_order="left",
    )
    infusion_rule = pl.format(
        "infusion from lot {} (lots row {}), which fails {}: {}",
        "lot_id",
        "_lot_row",
        pl.lit(tests),
        "_reasons",
    )
    every = pl.lit(True)
    return [
        row_findings(study, "lots", failing, every, "release_status", lot_rule, ERROR),
        row_findings(study, "infusions", infusions, every, "lot_id", infusion_rule, ERROR),
    ]


def _doses(study: StudyData, protocol: Protocol) -> list[pl.DataFrame]:
    d = protocol.dosing
    given = (
        rows_of(study, "infusions")
        .with_columns(pl.col("dose_cells").alias("requested_cells"))
        .with_columns(dose_failure(d).alias("_dose"), beyond_plan(d).alias("_extra"))
    )
    where = f"protocol {protocol.id}"
    no_weight = pl.col("weight_kg").is_null() | (pl.col("weight_kg") <= 0)
    column = pl.when(no_weight).then(pl.lit("weight_kg")).otherwise(pl.lit("dose_cells"))
    value = pl.when(no_weight).then(pl.col("weight_kg")).otherwise(pl.col("dose_cells"))
    dose = pl.col("dose_cells").is_not_null() & pl.col("_dose").is_not_null()
    return [
        row_findings(
            study,
            "infusions",
            given,
            dose,
            column,
            pl.format("dose not as {} plans: {}", pl.lit(where), "_dose"),
            WARNING,
            value.cast(pl.Utf8),
        ),
        row_findings(
            study,
            "infusions",
            given,
            pl.col("start_time").is_not_null() & pl.col("_extra").is_not_null(),
            "start_time",
            pl.format("{} ({})", "_extra", pl.lit(where)),
            WARNING,
        ),
    ]


def _unknown_day_0(study: StudyData) -> list[str]:
    """Participants with an infusion whose time is unreadable or missing: their first
    infusion, day 0 of a protocol anchored on it, is unknown (that cell has its own finding),
    so their visits are not judged against windows counted from a later infusion."""
    undated = study.infusions.filter(pl.col("start_time").is_null())
    return undated["participant_id"].drop_nulls().unique().to_list()


def _windows(study: StudyData, protocol: Protocol) -> list[pl.DataFrame]:
    """Visits dated outside their protocol window, and visit ids the protocol lacks; the
    window is the protocol's (windows.assign_visits), from its anchor."""
    visits = rows_of(study, "visits")
    if visits.height == 0:
        return []
    dated = visits.select(
        pl.col(ROW).alias("_file_row"),  # assign_visits numbers its rows as ROW itself
        "participant_id",
        "visit_id",
        pl.col("actual_date").cast(pl.Datetime).alias("time"),
    ).filter(  # an unreadable date has its own finding; a window cannot be judged without it
        pl.col("time").is_not_null() & ~pl.col("participant_id").is_in(_unknown_day_0(study))
    )
    assigned = (
        assign_visits(dated, anchor_dates(study, protocol), protocol)
        .rename({"_file_row": ROW})
        .join(
            visit_frame(protocol).select("visit_id", "lower_day", "upper_day"),
            on="visit_id",
            how="left",
            maintain_order="left",
        )
    )
    status = pl.col("visit_status")
    outside = pl.format(
        "visit {} on study day {} is outside its window, days {} to {} of protocol {}",
        "visit_id",
        "study_day",
        "lower_day",
        "upper_day",
        pl.lit(protocol.id),
    )
    ids = ", ".join(v.id for v in protocol.visits)
    unknown = f"visit not defined by protocol {protocol.id} (its visits: {ids})"
    return [
        row_findings(
            study,
            "visits",
            assigned,
            status == OUT_OF_WINDOW,
            "actual_date",
            outside,
            WARNING,
            pl.col("time").dt.date().cast(pl.Utf8),
        ),
        row_findings(
            study, "visits", assigned, status == UNKNOWN_VISIT, "visit_id", unknown, WARNING
        ),
    ]
