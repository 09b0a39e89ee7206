"""The analysis frame: one value per participant, visit and analyte, derived indices added."""

from __future__ import annotations

import polars as pl

from celltrial.analysis.derived import with_derived
from celltrial.analysis.plan import AnalysisPlan
from celltrial.data.study import StudyData

VALUE_COLUMNS = ["participant_id", "visit_id", "analyte", "value"]
KEY_COLUMNS = VALUE_COLUMNS[:3]


def as_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """The key columns of `frame` (participant_id, visit_id, analyte, those present) as
    Categorical, as in the analysis frame: joins and group_bys then hash one integer code per
    row instead of a string (the Categorical's categories are global, so codes agree across
    frames)."""
    return frame.with_columns(
        pl.col(c).cast(pl.Categorical) for c in frame.columns if c in KEY_COLUMNS
    )


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The Categorical key columns of an analysis frame back to text, for results."""
    cats = [c for c, t in frame.schema.items() if c in KEY_COLUMNS and t == pl.Categorical]
    return frame.with_columns(pl.col(c).cast(pl.Utf8) for c in cats)


def visit_values(study: StudyData, plan: AnalysisPlan) -> pl.DataFrame:
    """Scheduled measurements as participant_id, visit_id, analyte (Categorical), value.

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
    m = as_keys(m.select(VALUE_COLUMNS))
    if not _has_repeats(m):  # the usual case: nothing to average
        return m
    values = m.group_by(KEY_COLUMNS, maintain_order=True).agg(pl.col("value").mean())
    return values.select(VALUE_COLUMNS)


def _has_repeats(m: pl.DataFrame) -> bool:
    """Whether any (participant, visit, analyte) occurs twice, checked on one integer key
    built from the categorical codes (cheaper than hashing three codes per row)."""
    if m.height == 0:
        return False
    keys = KEY_COLUMNS
    codes = as_keys(m).select(pl.col(c).to_physical().cast(pl.UInt64) for c in keys)
    size = [int(x) + 1 for x in codes.max().row(0)]
    if size[0] * size[1] * size[2] >= 2**64:  # cannot happen with < 2^21 distinct strings each
        return m.select(pl.struct(keys).n_unique()).item() < m.height
    a, b, c = (pl.col(k) for k in keys)
    key = (a * size[1] + b) * size[2] + c
    return codes.select(key.n_unique()).item() < m.height
