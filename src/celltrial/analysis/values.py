"""The analysis frame: one value per participant, visit and analyte, derived indices added."""

from __future__ import annotations

import polars as pl

from celltrial.analysis.derived import with_derived
from celltrial.analysis.plan import AnalysisPlan
from celltrial.data.study import StudyData

VALUE_COLUMNS = ["participant_id", "visit_id", "analyte", "value"]


def visit_values(study: StudyData, plan: AnalysisPlan) -> pl.DataFrame:
    """Scheduled measurements as participant_id, visit_id, analyte, value.

    Unscheduled values (no visit_id) are left out; repeated values of one analyte at one visit
    are averaged (e.g. duplicate lab draws), so each participant counts once per visit.
    Derived outcomes of the plan (HOMA indices, eGFR) are computed by celltrial.clinical from
    their inputs when the study does not already hold them.
    """
    m = with_derived(study, plan).filter(
        pl.col("visit_id").is_not_null()
        & pl.col("value").is_not_null()
        & ~pl.col("value").is_nan()
        & pl.col("visit_id").is_in(list(plan.visits))
    )
    values = m.group_by(["participant_id", "visit_id", "analyte"], maintain_order=True).agg(
        pl.col("value").mean()
    )
    return values.select(VALUE_COLUMNS)
