"""The fast CSV paths (Arrow ISO date parsing, hashed key lookup) give exactly what the
lenient paths give: the same frames and the same findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.data import cells as cells_module
from celltrial.data import read_study, validate
from celltrial.data.canonical import lookup

EXAMPLES = Path(__file__).parents[2] / "examples"


def _lenient(monkeypatch) -> None:
    monkeypatch.setattr(cells_module, "_iso_fast", lambda text, dtype: None)


def _bad_cells(tmp_path: Path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "study.yaml").write_text("study_id: bad\n")
    (folder / "participants.csv").write_text(
        "participant_id,site_id,sex,enrollment_date,birth_date\n"
        "P1,S1,F,2020-01-01,1970-05-06\nP2,S1,M,2020-02-30,1960-01-01\nP3,S1,F,,1961-1-1\n"
    )
    (folder / "measurements.csv").write_text(
        "participant_id,time,analyte,value,unit\n"
        "P1,2020-01-02T08:00:00,fpg,7.0,mmol/L\nP1,2020-01-03 08:15,fpg,x,mmol/L\n"
        "P2,2020-01-04,fpg,126,mg/dL\nP2,2020-01-05T25:00:00,fpg,7.1,mmol/L\n"
        "P3,2020-01-06 08:00:00.5,hba1c,52,mmol/mol\nP3,,fpg,7,mmol/L\n"
    )
    return folder


@pytest.mark.parametrize("name", ["small-study", "broken-study", "bad-cells"])
def test_fast_and_lenient_paths_agree(tmp_path, monkeypatch, name):
    folder = _bad_cells(tmp_path) if name == "bad-cells" else EXAMPLES / name
    fast = read_study(folder, check="skip")
    fast_findings = validate(fast).frame
    _lenient(monkeypatch)
    slow = read_study(folder, check="skip")
    for table, frame in fast.tables().items():
        assert frame.equals(slow.tables()[table]), table
    assert fast_findings.equals(validate(slow).frame)


def test_bad_cells_are_found_on_the_fast_path(tmp_path):
    findings = {
        (f.table, f.row, f.column, f.value)
        for f in validate(read_study(_bad_cells(tmp_path), check="skip"))
    }
    assert ("participants", 2, "enrollment_date", "2020-02-30") in findings
    assert ("measurements", 4, "time", "2020-01-05T25:00:00") in findings


@settings(deadline=None, max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["2020-01-02", "2021-12-31", "2020-02-29", "2019-02-29"]),
            st.sampled_from(["", "T08:00", " 23:59", "T08:00:00", " 00:00:59", "T24:00:00"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_iso_fast_equals_the_lenient_parse_when_it_answers(cells):
    text = pl.Series("t", [d + t for d, t in cells])
    fast = cells_module._iso_fast(text, pl.Datetime("us"))
    lenient = cells_module._parse_datetimes(text)
    if fast is not None:
        assert fast.equals(lenient)
    else:  # the fast path declines only when some cell is not a valid date-time
        assert lenient.null_count() > 0


def test_iso_fast_dates():
    text = pl.Series("d", ["2020-01-02", None, "2024-02-29"])
    assert cells_module._iso_fast(text, pl.Date()).to_list() == [
        dt.date(2020, 1, 2),
        None,
        dt.date(2024, 2, 29),
    ]
    assert cells_module._iso_fast(pl.Series("d", ["2023-02-29"]), pl.Date()) is None


@settings(deadline=None, max_examples=60)
@given(
    st.lists(
        st.tuples(st.sampled_from(["fpg", "hba1c", None]), st.sampled_from(["mg/dL", "%", None])),
        max_size=40,
    )
)
def test_hashed_lookup_equals_a_plain_join(pairs):
    keys = pl.DataFrame(pairs, schema={"analyte": pl.Utf8, "unit": pl.Utf8}, orient="row")

    def build(distinct: pl.DataFrame) -> pl.DataFrame:
        return distinct.with_columns(
            pl.concat_str("analyte", "unit", separator="|", ignore_nulls=True).alias("joined")
        )

    expected = keys.join(
        build(keys.unique()), on=["analyte", "unit"], how="left", maintain_order="left",
        nulls_equal=True,
    ).drop("analyte", "unit")  # fmt: skip
    assert lookup(keys, build).equals(expected)
