"""A study as one table per participant: long (a row per participant and visit) and wide (a
row per participant, a column per analyte and visit such as `hba1c_d28`), holding the same
values the analysis uses (`analysis.values.visit_values`: repeated draws averaged, derived
indices added), so a statistician in SPSS or Stata reruns the analysis on identical data."""

from __future__ import annotations

import polars as pl

from celltrial.analysis.plan import AnalysisPlan
from celltrial.analysis.values import as_text, visit_values
from celltrial.data.study import StudyData

# Participant attributes carried into both tables, in this order.
ATTRIBUTES = ("participant_id", "site_id", "arm", "sex", "age", "diabetes_duration_years")


def participant_attributes(study: StudyData) -> pl.DataFrame:
    """One row per participant; `age` in completed years at enrolment when only the birth
    date is known (the enrolment-age convention of celltrial.clinical.derivations)."""
    p = study.participants
    from_birth = (
        (pl.col("enrollment_date") - pl.col("birth_date")).dt.total_days() / 365.25
    ).floor()
    return p.with_columns(pl.coalesce(pl.col("age"), from_birth).alias("age")).select(ATTRIBUTES)


def analytes_in_order(values: pl.DataFrame, plan: AnalysisPlan) -> list[str]:
    """The plan's outcomes first (protocol order), then any other analyte alphabetically."""
    present = set(values["analyte"].unique().to_list())
    planned = [o.analyte for o in plan.outcomes if o.analyte in present]
    return list(dict.fromkeys(planned)) + sorted(present - set(planned))


def long_by_visit(study: StudyData, plan: AnalysisPlan) -> pl.DataFrame:
    """participant attributes, visit_id, visit_day, then one column per analyte."""
    values = as_text(visit_values(study, plan))
    analytes = analytes_in_order(values, plan)
    grid = values.pivot(on="analyte", index=["participant_id", "visit_id"], values="value")
    for a in analytes:
        if a not in grid.columns:
            grid = grid.with_columns(pl.lit(None, pl.Float64).alias(a))
    order = {v: i for i, v in enumerate(plan.visits)}
    days = pl.col("visit_id").replace_strict(plan.visit_days, default=None, return_dtype=pl.Int64)
    grid = grid.with_columns(
        days.alias("visit_day"),
        pl.col("visit_id").replace_strict(order, default=None, return_dtype=pl.Int64).alias("_o"),
    )
    out = participant_attributes(study).join(grid, on="participant_id", how="inner")
    return out.sort("participant_id", "_o").select(*ATTRIBUTES, "visit_id", "visit_day", *analytes)


def wide_name(analyte: str, visit_id: str) -> str:
    return f"{analyte}_{visit_id}"


def wide_by_visit(study: StudyData, plan: AnalysisPlan) -> pl.DataFrame:
    """participant attributes, then `<analyte>_<visit>` for every analyte and plan visit
    observed, analytes in plan order and visits in schedule order."""
    values = as_text(visit_values(study, plan))
    analytes = analytes_in_order(values, plan)
    seen = set(zip(values["analyte"].to_list(), values["visit_id"].to_list(), strict=True))
    columns = [wide_name(a, v) for a in analytes for v in plan.visits if (a, v) in seen]
    named = values.with_columns(
        (pl.col("analyte") + "_" + pl.col("visit_id")).alias("_column")
    ).pivot(on="_column", index="participant_id", values="value")
    out = participant_attributes(study).join(named, on="participant_id", how="left")
    return out.sort("participant_id").select(*ATTRIBUTES, *columns)
