"""The study workbook (data.excel_export): read back by excel_import.read_workbook into the
same tables, cell by cell; numbers keep the 16 significant digits the xlsx writers print
(xlsxwriter's "%.16G"; Excel itself keeps 15, Microsoft KB 78113)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.data import read_study
from celltrial.data.excel_export import write_workbook
from celltrial.data.excel_import import read_workbook

SMALL_STUDY = Path(__file__).parents[2] / "examples" / "small-study"
STUDY = read_study(SMALL_STUDY, check="skip")


def test_example_reads_back_cell_by_cell(tmp_path):
    back = read_workbook(write_workbook(STUDY, tmp_path / "s.xlsx"))
    assert back.load_findings.height == 0
    assert (back.meta.study_id, back.meta.protocol, back.meta.title) == (
        STUDY.meta.study_id, STUDY.meta.protocol, STUDY.meta.title)  # fmt: skip
    for name, expected in STUDY.tables().items():  # eight tables
        got = getattr(back, name)
        assert got.schema == expected.schema and got.height == expected.height > 0, name
        for column in expected.columns:
            for i, (a, b) in enumerate(zip(got[column], expected[column], strict=True)):
                assert a == b, (name, column, i, a, b)


@given(
    heights=st.lists(
        st.one_of(st.none(), st.floats(min_value=50, max_value=250, allow_nan=False)),
        min_size=6,
        max_size=6,
    ),
    seconds=st.integers(min_value=0, max_value=59),
)
@settings(max_examples=15)
def test_numbers_nulls_and_times_read_back(heights, seconds):
    people = STUDY.participants.with_columns(pl.Series("height_cm", heights, pl.Float64))
    visits = STUDY.measurements.with_columns(
        pl.col("time").dt.offset_by(f"{seconds}s")
    )  # times to the second
    study = STUDY.with_table("participants", people).with_table("measurements", visits)
    with tempfile.TemporaryDirectory() as tmp:
        back = read_workbook(write_workbook(study, Path(tmp) / "s.xlsx"))
    for a, b in zip(back.participants["height_cm"], heights, strict=True):
        assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-15)
    assert back.measurements["time"].to_list() == visits["time"].to_list()
    assert {t.second for t in back.measurements["time"].drop_nulls()} == {seconds}
