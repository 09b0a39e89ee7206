"""validate(study, tables): the findings of some tables only, as the registry checks one
changed table on every write. The reference is the whole validate() filtered to those
tables: the scoped run must give exactly those rows, in the same order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from celltrial.data import StudyData, read_study, validate
from celltrial.data.schema import TABLES

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _whole_then_filtered(study: StudyData, tables: list[str]) -> pl.DataFrame:
    fresh = dataclasses.replace(study)  # not the memo of an earlier whole run
    return validate(fresh).frame.filter(pl.col("table").is_in(tables))


def _assert_scoped_matches(study: StudyData, tables: list[str]) -> None:
    scoped = validate(dataclasses.replace(study), tables).frame
    assert_frame_equal(scoped, _whole_then_filtered(study, tables))


# the tables examples/broken-study has findings in (screening and lots are clean there)
BROKEN_TABLES = [
    "adverse_events",
    "infusions",
    "measurements",
    "medications",
    "participants",
    "visits",
]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_table_of_the_broken_example(table):
    study = read_study(EXAMPLES / "broken-study", check="skip")
    whole = _whole_then_filtered(study, [table])
    assert (whole.height > 0) == (table in BROKEN_TABLES)  # not a vacuous match
    _assert_scoped_matches(study, [table])


def test_two_tables_at_once_and_every_table():
    study = read_study(EXAMPLES / "broken-study", check="skip")
    _assert_scoped_matches(study, ["measurements", "infusions"])
    _assert_scoped_matches(study, sorted(TABLES))


def test_an_unknown_table_is_refused_by_name():
    study = read_study(EXAMPLES / "small-study", check="skip")
    with pytest.raises(ValueError, match="no such table: measurement"):
        validate(study, ["measurement"])


def _broken(study: StudyData, table: str, row: int, column: str, how: str) -> StudyData:
    frame = getattr(study, table)
    if frame.height == 0:
        return study
    row %= frame.height
    if how == "duplicate":
        return study.with_table(table, pl.concat([frame, frame[row]]))
    at = pl.int_range(pl.len()) == row
    if how == "null":
        broken = frame.with_columns(pl.when(at).then(None).otherwise(pl.col(column)).alias(column))
    elif how == "text":
        text = pl.col(column).cast(pl.Utf8)
        broken = frame.with_columns(pl.when(at).then(pl.lit("x?")).otherwise(text).alias(column))
    else:  # a number far out of any range, or a date far back
        kind = frame.schema[column]
        if kind.is_numeric():
            far = pl.lit(-1e9).cast(kind, strict=False)
        elif kind.is_temporal():
            far = pl.lit(-3_000_000).cast(pl.Int64).cast(kind, strict=False)
        else:
            far = pl.lit("zz")
        broken = frame.with_columns(pl.when(at).then(far).otherwise(pl.col(column)).alias(column))
    return study.with_table(table, broken)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(
        st.tuples(
            st.sampled_from(sorted(TABLES)),
            st.integers(0, 50),
            st.integers(0, 40),
            st.sampled_from(["null", "text", "far", "duplicate"]),
        ),
        min_size=1,
        max_size=6,
    ),
    scope=st.sets(st.sampled_from(sorted(TABLES)), min_size=1, max_size=3),
)
def test_any_broken_cells_give_the_same_findings(changes, scope):
    study = read_study(EXAMPLES / "small-study", check="skip")
    for table, row, col, how in changes:
        columns = [c.name for c in TABLES[table].columns]
        study = _broken(study, table, row, columns[col % len(columns)], how)
    _assert_scoped_matches(study, sorted(scope))
