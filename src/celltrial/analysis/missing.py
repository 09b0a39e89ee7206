"""Missing-data summary: which participant misses which outcome at which visit."""

from __future__ import annotations

import polars as pl

from celltrial.analysis.plan import AnalysisPlan


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


def missing_values(
    participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan
) -> pl.DataFrame:
    """The scheduled (participant_id, analyte, visit_id) with no value: who misses what, when."""
    grid = expected_grid(participants, plan)
    seen = values.select("participant_id", "analyte", "visit_id").unique()
    return grid.join(seen, on=["participant_id", "analyte", "visit_id"], how="anti").sort(
        "participant_id", "analyte", "visit_id"
    )


def missing_summary(
    participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan
) -> pl.DataFrame:
    """Per analyte and visit: expected, observed, missing and percent missing."""
    grid = expected_grid(participants, plan)
    seen = values.select("participant_id", "analyte", "visit_id").unique()
    flagged = grid.join(
        seen.with_columns(pl.lit(True).alias("_seen")),
        on=["participant_id", "analyte", "visit_id"],
        how="left",
    )
    out = flagged.group_by("analyte", "visit_id").agg(
        pl.len().alias("expected"), pl.col("_seen").count().alias("observed")
    )
    out = out.with_columns((pl.col("expected") - pl.col("observed")).alias("missing"))
    pct = 100.0 * pl.col("missing") / pl.col("expected")
    order = _scheduled(plan).with_row_index("_o")
    return (
        out.with_columns(pct.alias("pct_missing"))
        .join(order, on=["analyte", "visit_id"], how="left")
        .sort("_o")
        .drop("_o")
    )
