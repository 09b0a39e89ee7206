"""Missing-data summary: which participant misses which outcome at which visit."""

from __future__ import annotations

import polars as pl

from celltrial.analysis.plan import AnalysisPlan
from celltrial.analysis.values import as_keys, as_text


def _scheduled(plan: AnalysisPlan) -> pl.DataFrame:
    """(analyte, visit_id) scheduled by the plan, in plan order."""
    return pl.DataFrame(
        {
            "analyte": [o.analyte for o in plan.outcomes for _ in o.visits],
            "visit_id": [v for o in plan.outcomes for v in o.visits],
        },
        schema={"analyte": pl.Utf8, "visit_id": pl.Utf8},
    )


def expected_grid(participants: pl.DataFrame, plan: AnalysisPlan) -> pl.DataFrame:
    """Every (participant, analyte, visit) the protocol schedules."""
    return participants.select("participant_id").unique().join(_scheduled(plan), how="cross")


def _observed(participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan) -> pl.DataFrame:
    """analyte, visit_id, expected, observed for the scheduled pairs, without building the
    participants x schedule grid (values hold one row per participant, visit and analyte, as
    visit_values makes them)."""
    ids = participants["participant_id"].drop_nulls().unique()
    # membership by an Enum of the enrolled ids (unknown ids cast to null): one hash lookup
    # per row, cheaper than a string is_in or semi-join
    enrolled = pl.col("participant_id").cast(pl.Enum(ids.to_list()), strict=False).is_not_null()
    counts = values.filter(enrolled).group_by("analyte", "visit_id").agg(pl.len().alias("observed"))
    counts = as_text(counts)
    return (
        _scheduled(plan)
        .with_row_index("_o")
        .join(counts, on=["analyte", "visit_id"], how="left")
        .with_columns(
            pl.lit(ids.len(), pl.UInt32).alias("expected"),
            pl.col("observed").fill_null(0).cast(pl.UInt32),
        )
    )


def missing_values(
    participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan
) -> pl.DataFrame:
    """The scheduled (participant_id, analyte, visit_id) with no value: who misses what, when.

    Only the (analyte, visit) pairs with a missing value are expanded to participants."""
    values = as_keys(values)
    gaps = _observed(participants, values, plan).filter(pl.col("observed") < pl.col("expected"))
    gaps = as_keys(gaps.select("analyte", "visit_id"))
    grid = as_keys(participants.select("participant_id").unique()).join(gaps, how="cross")
    seen = values.join(gaps, on=["analyte", "visit_id"], how="semi").select(
        "participant_id", "analyte", "visit_id"
    )
    missing = grid.join(seen, on=["participant_id", "analyte", "visit_id"], how="anti")
    return as_text(missing).sort("participant_id", "analyte", "visit_id")


def missing_summary(
    participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan
) -> pl.DataFrame:
    """Per analyte and visit: expected, observed, missing and percent missing."""
    out = _observed(participants, values, plan)
    out = out.with_columns(
        pl.col("expected").cast(pl.UInt32),
        (pl.col("expected") - pl.col("observed")).cast(pl.UInt32).alias("missing"),
    )
    pct = 100.0 * pl.col("missing") / pl.col("expected")
    return (
        out.with_columns(pct.alias("pct_missing"))
        .sort("_o")
        .select("analyte", "visit_id", "expected", "observed", "missing", "pct_missing")
    )
