"""Adverse events (Lian 2022 safety endpoints): per participant, per infusion, by term, by
term and infusion number, and by time after infusion.

Terms are normalised (celltrial.clinical.adverse_event_terms; the term as entered is kept in
`term_as_entered`). Each event is linked to an infusion (the one recorded, else the latest
before onset) and attributed to it when its onset falls within the term's attribution window
(fever: 24 h) or, for a term without one, at any time before the next infusion.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from celltrial.analysis.proportions import with_wilson
from celltrial.clinical.adverse_event_terms import ATTRIBUTION_WINDOW_H, normalised_term
from celltrial.data.study import StudyData

# Time-after-infusion bins; Lian 2022 reports fever "within 24 h after the second or third
# infusion" (L202), so the first bin is 24 h.
TIME_BINS_H = (24.0, 24.0 * 7)
TIME_LABELS = ("<= 24 h", "1-7 days", "> 7 days")
# attribution of an event: to its infusion, or why not
ATTRIBUTED, OUTSIDE_WINDOW, NO_INFUSION = (
    "infusion",
    "after the attribution window",
    "no infusion before onset",
)


@dataclass(frozen=True)
class SafetyResults:
    overall: pl.DataFrame  # one row: participants, with AE, events, infusions, rates
    by_term: pl.DataFrame  # term, events, participants with term, percent, Wilson CI
    by_infusion: pl.DataFrame  # infusion_number, infusions, attributed events, participants
    by_term_infusion: pl.DataFrame  # term x attribution (infusion number or why not): counts
    by_time: pl.DataFrame  # time bin after the linked infusion, events
    events: pl.DataFrame  # each AE with infusion_number and hours after infusion (timeline)


def _numbered_infusions(infusions: pl.DataFrame) -> pl.DataFrame:
    """infusion_number as recorded, else the rank of start_time within the participant."""
    rank = pl.col("start_time").rank("ordinal").over("participant_id").cast(pl.Int64)
    return infusions.with_columns(
        pl.coalesce(pl.col("infusion_number"), rank).alias("infusion_number")
    )


def _link_events(study: StudyData, infusions: pl.DataFrame) -> pl.DataFrame:
    """Each AE with its infusion: the one recorded, else the latest infusion before onset."""
    ae = study.adverse_events.sort("onset_time")
    inf = infusions.select("participant_id", "infusion_id", "infusion_number", "start_time").sort(
        "start_time"
    )
    nearest = ae.join_asof(
        inf.rename({"infusion_id": "_prior_id"}).drop("infusion_number"),
        left_on="onset_time",
        right_on="start_time",
        by="participant_id",
        strategy="backward",
        check_sortedness=False,  # sorted by onset_time; groups by participant
    ).with_columns(pl.coalesce("infusion_id", "_prior_id").alias("infusion_id"))
    linked = nearest.drop("start_time", "_prior_id").join(
        inf.drop("participant_id"), on="infusion_id", how="left"
    )
    hours = (pl.col("onset_time") - pl.col("start_time")).dt.total_seconds() / 3600.0
    linked = linked.with_columns(
        pl.col("term").alias("term_as_entered"),
        normalised_term(pl.col("term")).alias("term"),
        hours.alias("hours_after_infusion"),
    )
    return linked.with_columns(_attribution())


def _attribution() -> list[pl.Expr]:
    """attribution (ATTRIBUTED, OUTSIDE_WINDOW or NO_INFUSION) and attributed_infusion (the
    infusion number when attributed)."""
    h = pl.col("hours_after_infusion")
    window = pl.col("term").replace_strict(ATTRIBUTION_WINDOW_H, default=None)
    linked = h.is_not_null() & (h >= 0)
    inside = linked & (window.is_null() | (h <= window))
    why = (
        pl.when(inside)
        .then(pl.lit(ATTRIBUTED))
        .when(linked)
        .then(pl.lit(OUTSIDE_WINDOW))
        .otherwise(pl.lit(NO_INFUSION))
    )
    number = pl.when(inside).then(pl.col("infusion_number"))
    return [why.alias("attribution"), number.alias("attributed_infusion")]


def adverse_event_tables(study: StudyData) -> SafetyResults:
    """All AE tables; an empty adverse_events table gives zero counts, not an error."""
    infusions = _numbered_infusions(study.infusions)
    events = _link_events(study, infusions)
    n_part = study.participants.height
    n_inf = infusions.height
    with_ae = events["participant_id"].n_unique()
    overall = with_wilson(
        pl.DataFrame(
            {
                "participants": [n_part],
                "n": [n_part],
                "count": [with_ae],
                "events": [events.height],
                "serious": [int(events["serious"].fill_null(False).sum())],
                "infusions": [n_inf],
            }
        )
    ).with_columns(
        # no infusion given: no rate (not infinity)
        pl.when(pl.col("infusions") > 0)
        .then(pl.col("events") / pl.col("infusions"))
        .alias("events_per_infusion"),
    )
    by_term = with_wilson(
        events.group_by("term")
        .agg(pl.len().alias("events"), pl.col("participant_id").n_unique().alias("count"))
        .with_columns(pl.lit(n_part).alias("n"))
        .sort("events", "term", descending=[True, False])
    )
    return SafetyResults(
        overall,
        by_term,
        _by_infusion(events, infusions),
        _by_term_infusion(events, infusions),
        _by_time(events),
        events,
    )


def _by_term_infusion(events: pl.DataFrame, infusions: pl.DataFrame) -> pl.DataFrame:
    """Per normalised term: events and participants attributed to each infusion number (every
    number given, zeros kept), then the events not attributed, by reason (rows only when
    there are such events); window_h is the term's attribution window (null: the interval)."""
    numbers = infusions.select("infusion_number").unique().sort("infusion_number")
    given = infusions.group_by("infusion_number").agg(pl.len().alias("infusions"))
    terms = events.select("term").unique().sort("term", nulls_last=True)
    counts = events.group_by("term", "attribution", "attributed_infusion").agg(
        pl.len().alias("events"), pl.col("participant_id").n_unique().alias("participants")
    )
    grid = terms.join(numbers, how="cross").select(
        "term", pl.lit(ATTRIBUTED).alias("attribution"), pl.col("infusion_number")
    )
    per_infusion = grid.join(
        counts.rename({"attributed_infusion": "infusion_number"}),
        on=["term", "attribution", "infusion_number"],
        how="left",
        nulls_equal=True,
    ).join(given, on="infusion_number", how="left")
    rest = counts.filter(pl.col("attribution") != ATTRIBUTED).rename(
        {"attributed_infusion": "infusion_number"}
    )
    order = pl.col("attribution").replace_strict(
        {ATTRIBUTED: 0, OUTSIDE_WINDOW: 1, NO_INFUSION: 2}, return_dtype=pl.Int8
    )
    out = pl.concat([per_infusion, rest], how="diagonal_relaxed").with_columns(
        pl.col("events").fill_null(0).cast(pl.Int64),
        pl.col("participants").fill_null(0).cast(pl.Int64),
        pl.col("term").replace_strict(ATTRIBUTION_WINDOW_H, default=None).alias("window_h"),
    )
    cols = ["term", "attribution", "infusion_number", "infusions", "events", "participants"]
    return out.sort("term", order, "infusion_number", nulls_last=True).select(*cols, "window_h")


def _by_infusion(events: pl.DataFrame, infusions: pl.DataFrame) -> pl.DataFrame:
    given = infusions.group_by("infusion_number").agg(pl.len().alias("n"))
    ev = (
        events.filter(pl.col("attributed_infusion").is_not_null())
        .group_by(pl.col("attributed_infusion").alias("infusion_number"))
        .agg(pl.len().alias("events"), pl.col("participant_id").n_unique().alias("count"))
    )
    out = given.join(ev, on="infusion_number", how="left").with_columns(
        pl.col("events").fill_null(0), pl.col("count").fill_null(0)
    )
    out = out.with_columns((pl.col("events") / pl.col("n")).alias("events_per_infusion"))
    return with_wilson(out.sort("infusion_number")).rename({"n": "infusions"})


def _by_time(events: pl.DataFrame) -> pl.DataFrame:
    h = pl.col("hours_after_infusion")
    label = (
        pl.when(h.is_null())
        .then(pl.lit("no infusion before onset"))
        .when(h <= TIME_BINS_H[0])
        .then(pl.lit(TIME_LABELS[0]))
        .when(h <= TIME_BINS_H[1])
        .then(pl.lit(TIME_LABELS[1]))
        .otherwise(pl.lit(TIME_LABELS[2]))
    )
    bins = pl.DataFrame({"time_after_infusion": [*TIME_LABELS, "no infusion before onset"]})
    counts = events.group_by(label.alias("time_after_infusion")).agg(pl.len().alias("events"))
    return bins.join(counts, on="time_after_infusion", how="left").with_columns(
        pl.col("events").fill_null(0).cast(pl.Int64)
    )
