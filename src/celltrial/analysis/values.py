"""The analysis frame: one value per participant, visit and analyte, derived indices added."""

from __future__ import annotations

import numpy as np
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


def dense_codes(codes: np.ndarray) -> np.ndarray:
    """Integer codes as 0..k-1 in the same order, without sorting: Categorical codes are
    global to the process, so a frame's codes are sparse and unbounded."""
    present = np.zeros(int(codes.max(initial=0)) + 1, dtype=bool)
    present[codes] = True
    return (np.cumsum(present) - 1)[codes]


def positions(column: pl.Series, names: list[str]) -> np.ndarray:
    """Each value of a Categorical column as its position in `names` (len(names) where it is
    not among them), by a lookup table on the categorical codes: no string is hashed."""
    codes = column.to_physical().to_numpy().astype(np.int64)
    wanted = pl.Series(names, dtype=pl.Categorical).to_physical().to_numpy().astype(np.int64)
    lookup = np.full(max(int(codes.max(initial=0)), int(wanted.max(initial=0))) + 1, len(names))
    lookup[wanted] = np.arange(len(names))
    return lookup[codes]


# Repeats are counted in a table of every (participant, visit, analyte) when it holds at most
# this many cells per row (8 bytes each): else by hashing the combined key.
_TABLE_CELLS_PER_ROW = 8


def _has_repeats(m: pl.DataFrame) -> bool:
    """Whether any (participant, visit, analyte) occurs twice: a bincount over the combined
    dense codes (no hashing of strings, nor of codes, in the usual case)."""
    if m.height == 0:
        return False
    keys = as_keys(m)
    codes = [dense_codes(keys[c].to_physical().to_numpy().astype(np.int64)) for c in KEY_COLUMNS]
    sizes = [int(c.max()) + 1 for c in codes]  # each at most the number of rows
    key = (codes[0] * sizes[1] + codes[1]) * sizes[2] + codes[2]  # < rows^3 < 2^63 here
    cells = sizes[0] * sizes[1] * sizes[2]
    if cells <= _TABLE_CELLS_PER_ROW * m.height:
        return bool(np.bincount(key, minlength=cells).max() > 1)
    return pl.Series(key).n_unique() < m.height
