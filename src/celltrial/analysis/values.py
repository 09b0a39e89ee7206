"""The analysis frame: one value per participant, visit and analyte, derived indices added."""

from __future__ import annotations

import numpy as np
import polars as pl

from celltrial.analysis.derived import with_derived
from celltrial.analysis.plan import AnalysisPlan
from celltrial.clinical.analytes import SEX_SPECIFIC
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
    """Scheduled measurements as participant_id, visit_id, analyte, value; the three keys are
    Categorical (as_text turns a frame's keys back to text).

    Unscheduled values (no visit_id) and rows without a participant or analyte (validate
    reports them) are left out; repeated values of one analyte at one visit
    are averaged (e.g. duplicate lab draws), so each participant counts once per visit.
    Derived outcomes of the plan (HOMA indices, eGFR) are computed by celltrial.clinical from
    their inputs when the study does not already hold them. A sex-specific analyte
    (testosterone, estradiol: catalogue `sex`) keeps only the values of participants recorded
    as that sex (sex_counts).
    """
    m = with_derived(study, plan).filter(
        pl.col("visit_id").is_not_null()
        & pl.col("participant_id").is_not_null()
        & pl.col("analyte").is_not_null()
        & pl.col("value").is_not_null()
        & ~pl.col("value").is_nan()
        & pl.col("visit_id").is_in(list(plan.visits))
    )
    m = _of_their_sex(as_keys(m.select(VALUE_COLUMNS)), study.participants)
    if not _has_repeats(m):  # the usual case: nothing to average
        return m
    values = m.group_by(KEY_COLUMNS, maintain_order=True).agg(pl.col("value").mean())
    return values.select(VALUE_COLUMNS)


def sex_counts(sex: np.ndarray, required: np.ndarray) -> np.ndarray:
    """Whether a participant of `sex` counts for an analyte that requires `required` (None:
    any sex), elementwise with broadcasting: the one rule for sex-specific analytes. A
    participant whose sex is not recorded counts for no sex-specific analyte."""
    return np.equal(required, None) | np.equal(sex, required)


def _of_their_sex(m: pl.DataFrame, participants: pl.DataFrame) -> pl.DataFrame:
    """The values of sex-specific analytes measured in the other (or an unrecorded) sex
    left out; the value rows found by categorical-code lookups, not string joins."""
    names = list(SEX_SPECIFIC)
    which = positions(m["analyte"], names)
    rows = np.flatnonzero(which < len(names))
    if rows.size == 0:  # the usual case: no sex-specific analyte in the plan's values
        return m
    people = participants.select("participant_id", "sex").drop_nulls("participant_id")
    people = people.unique("participant_id", keep="first", maintain_order=True)
    who = positions(m["participant_id"].gather(rows), people["participant_id"].to_list())
    sex = np.append(people["sex"].to_numpy().astype(object), None)  # last: not enrolled
    required = np.array([SEX_SPECIFIC[n] for n in names], dtype=object)
    keep = np.ones(m.height, dtype=bool)
    keep[rows] = sex_counts(sex[who], required[which[rows]])
    return m.filter(pl.Series(keep))


# Lookup tables indexed by categorical code are used while the largest code is at most this
# many times the rows (plus 2^20): the codes are global to the process and only grow, and
# past that bound a table would cost more memory than the sort it saves.
_TABLE_PER_ROW = 8


def _table_fits(largest: int, rows: int) -> bool:
    return largest <= _TABLE_PER_ROW * rows + 2**20


def dense_codes(codes: np.ndarray) -> np.ndarray:
    """Integer codes (non-negative) as 0..k-1 in the same order: Categorical codes are global
    to the process, so a frame's codes are sparse and unbounded."""
    largest = int(codes.max(initial=0))
    if not _table_fits(largest, len(codes)):
        return np.unique(codes, return_inverse=True)[1].reshape(-1)
    present = np.zeros(largest + 1, dtype=bool)
    present[codes] = True
    return (np.cumsum(present) - 1)[codes]


def positions(column: pl.Series, names: list[str]) -> np.ndarray:
    """Each value of a Categorical column as its position in `names` (len(names) where it is
    not among them or null), by a lookup table on the categorical codes: no string hashed."""
    absent = len(names)
    physical = column.to_physical()
    if physical.null_count():  # -1 stands for null (NumPy has no null integers)
        physical = physical.cast(pl.Int64).fill_null(-1)
    codes = physical.to_numpy()
    wanted = pl.Series(names, dtype=pl.Categorical).to_physical().cast(pl.Int64).to_numpy()
    largest = max(int(codes.max(initial=0)), int(wanted.max(initial=0)))
    if not _table_fits(largest, len(codes)):
        where = dict(zip(names, range(absent), strict=True))
        found = column.cast(pl.Utf8).replace_strict(where, default=absent, return_dtype=pl.Int64)
        return found.to_numpy()
    lookup = np.full(largest + 2, absent)  # the last entry answers code -1 (null)
    lookup[wanted] = np.arange(absent)
    return lookup[codes]


def _has_repeats(m: pl.DataFrame) -> bool:
    """Whether any (participant, visit, analyte) occurs twice: a bincount over the combined
    dense codes (no hashing of strings, nor of codes, in the usual case)."""
    if m.height == 0:
        return False
    keys = as_keys(m)
    codes = [dense_codes(keys[c].to_physical().to_numpy().astype(np.int64)) for c in KEY_COLUMNS]
    sizes = [int(c.max()) + 1 for c in codes]  # each at most the number of rows
    cells = sizes[0] * sizes[1] * sizes[2]
    if cells >= 2**63:  # the combined key would overflow int64: hash the three codes
        return pl.DataFrame(codes).n_unique() < m.height
    key = (codes[0] * sizes[1] + codes[1]) * sizes[2] + codes[2]
    if _table_fits(cells, m.height):
        return bool(np.bincount(key, minlength=cells).max() > 1)
    return pl.Series(key).n_unique() < m.height
