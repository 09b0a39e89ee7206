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
    m = m.select(VALUE_COLUMNS)
    if not _has_repeats(m):  # the usual case: nothing to average, no 3-string-key group_by
        return m
    values = m.group_by(["participant_id", "visit_id", "analyte"], maintain_order=True).agg(
        pl.col("value").mean()
    )
    return values.select(VALUE_COLUMNS)


def _has_repeats(m: pl.DataFrame) -> bool:
    """Whether any (participant, visit, analyte) occurs twice, checked on one integer key
    built from categorical codes (much cheaper than hashing three strings per row)."""
    if m.height == 0:
        return False
    keys = VALUE_COLUMNS[:3]
    codes = m.select(pl.col(c).cast(pl.Categorical).to_physical().cast(pl.UInt64) for c in keys)
    size = [int(x) + 1 for x in codes.max().row(0)]
    if size[0] * size[1] * size[2] >= 2**64:  # cannot happen with < 2^21 distinct strings each
        return m.select(pl.struct(keys).n_unique()).item() < m.height
    a, b, c = (pl.col(k) for k in keys)
    key = (a * size[1] + b) * size[2] + c
    return codes.select(key.n_unique()).item() < m.height
