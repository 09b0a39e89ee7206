"""Files in a study folder that are not its tables (issue 10): a misnamed table or a
spreadsheet is an error naming the file and the table it meant, never a silent empty table."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from celltrial.data import TABLES, read_study, validate
from celltrial.data.findings import STUDY
from celltrial.data.misnamed import meant_table

SMALL = Path(__file__).parents[2] / "examples" / "small-study"


def _copy(tmp_path: Path) -> Path:
    folder = Path(tempfile.mkdtemp(dir=tmp_path)) / "study"  # hypothesis replays examples
    shutil.copytree(SMALL, folder)
    return folder


def _folder_findings(folder: Path) -> pl.DataFrame:
    found = validate(read_study(folder, check="skip")).frame
    return found.filter(pl.col("table") == STUDY)


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("Measurements.csv", "measurements"),
        ("ADVERSE_EVENTS.CSV", "adverse_events"),
        ("adverse events.csv", "adverse_events"),
        ("adverse-event.csv", "adverse_events"),
        ("ae.csv", "adverse_events"),
        ("measurments.csv", "measurements"),
        ("Infusion.parquet", "infusions"),
    ],
)
def test_a_misnamed_table_is_an_error_naming_the_table(tmp_path, name, table):
    folder = _copy(tmp_path)
    (folder / f"{table}.csv").rename(folder / name)
    found = _folder_findings(folder)
    assert found.select("severity", "value").rows() == [("error", name)]
    rule = found["rule"].item()
    assert f"the {table} table must be named {table}." in rule
    assert f"no {table} rows" in rule
    assert getattr(read_study(folder, check="skip"), table).height == 0  # why it is an error


def test_a_spreadsheet_table_says_how_to_convert(tmp_path):
    folder = _copy(tmp_path)
    (folder / "adverse_events.csv").unlink()
    (folder / "adverse_events.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    found = _folder_findings(folder)
    assert found.select("severity", "value").rows() == [("error", "adverse_events.xlsx")]
    assert "CellTrial reads CSV or Parquet: save it as adverse_events.csv" in found["rule"].item()
    assert "CSV UTF-8" in found["rule"].item()


def test_a_copy_beside_the_table_is_a_warning(tmp_path):
    folder = _copy(tmp_path)
    shutil.copy(folder / "lots.csv", folder / "Lots.xlsx")
    found = _folder_findings(folder)
    assert found.select("severity", "value").rows() == [("warning", "Lots.xlsx")]
    assert "read from lots.csv" in found["rule"].item()


def test_other_files_are_warnings_and_hidden_files_and_the_protocol_are_ignored(tmp_path):
    folder = _copy(tmp_path)
    for name in ("notes.txt", ".DS_Store", "~$participants.xlsx", ".~lock.visits.csv#"):
        (folder / name).write_text("x")
    (folder / "figures").mkdir()
    shutil.copy(SMALL.parents[0] / "bad-protocol.yaml", folder / "my-protocol.yaml")
    text = (folder / "study.yaml").read_text().replace("lian2022", "my-protocol.yaml")
    (folder / "study.yaml").write_text(text)
    found = _folder_findings(folder)
    assert found.select("severity", "value").rows() == [("warning", "notes.txt")]
    assert found["rule"].item().startswith("not a study table, not read (tables: participants")


def test_the_shipped_examples_have_only_the_deliberate_extra_file():
    assert _folder_findings(SMALL).height == 0
    broken = _folder_findings(SMALL.parent / "broken-study")
    assert broken.select("severity", "value").rows() == [("warning", "adverse_events.xlsx")]


NAMES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\\\x00", exclude_categories=["Cs"]),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip(". ") and not s.startswith((".", "~$")) and len(s.encode()) < 200)
EXTS = st.sampled_from(["", ".csv", ".parquet", ".xlsx", ".txt", ".md", ".CSV"])


@given(stem=NAMES, ext=EXTS)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_extra_file_is_one_finding_naming_it(tmp_path, stem, ext):
    folder = _copy(tmp_path)
    name = stem + ext
    if name in {"study.yaml"} | {f"{t}.{e}" for t in TABLES for e in ("csv", "parquet")}:
        return  # a table file itself, read as the table
    (folder / name).write_bytes(b"a,b\n1,2\n")
    found = _folder_findings(folder)
    assert found["value"].to_list() == [name]
    table = meant_table(Path(name).stem)
    # every table of small-study has its file, so a file named for one is a warning too
    assert found["severity"].item() == "warning"
    assert (table is None) == found["rule"].item().startswith("not a study table")


@given(stem=NAMES)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_table_file_under_any_case_is_an_error_when_the_table_is_missing(tmp_path, stem):
    assume(meant_table(stem) is None)  # an unrelated note beside the misnamed table
    table = "measurements"
    name = "".join(c.upper() if i % 2 else c for i, c in enumerate(table)) + ".csv"
    folder = _copy(tmp_path)
    (folder / f"{table}.csv").rename(folder / name)
    (folder / (stem + ".md")).write_text("notes")
    found = _folder_findings(folder)
    errors = found.filter(pl.col("severity") == "error")
    assert errors["value"].to_list() == [name]
    assert "no measurements rows" in errors["rule"].item()


@pytest.mark.parametrize(
    ("stem", "meant"),
    [("notes", None), ("readme", None), ("participant", "participants"), ("labs", "measurements")],
)
def test_meant_table(stem, meant):
    assert meant_table(stem) == meant
