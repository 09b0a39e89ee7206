"""Excel: the template's sheets, headers and drop-downs; a filled workbook read back into the
same study; findings by sheet and Excel row; unreadable workbooks refused."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.data import StudyReadError, read_study, validate
from celltrial.data.excel_import import read_workbook
from celltrial.data.excel_template import sheet_columns
from celltrial.data.schema import TABLES
from celltrial.protocol import load_protocol

EXAMPLES = Path(__file__).parents[2] / "examples"
runner = CliRunner()
_register()


@pytest.fixture
def template(tmp_path) -> Path:
    out = tmp_path / "entry.xlsx"
    result = runner.invoke(app, ["export", "template", "--protocol", "lian2022", str(out)])
    assert result.exit_code == DONE, result.output
    return out


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat() if isinstance(value, dt.date) else value


def _fill(template: Path, folder: Path, target: Path) -> None:
    """The template filled with a study's CSV rows as a coordinator types them."""
    book = openpyxl.load_workbook(template)
    study = read_study(folder)
    book["study"]["B2"] = study.meta.study_id
    book["study"]["B4"] = study.meta.title
    for name in TABLES:
        sheet = book[name]
        header = [c.value for c in sheet[1]]
        frame = getattr(study, name)
        if name == "measurements":  # the entry, as typed
            frame = frame.with_columns(
                pl.col("value_as_entered").alias("value"), pl.col("unit_as_entered").alias("unit")
            )
        for row in frame.select(header).iter_rows():  # a test writing a small workbook
            sheet.append([_cell(v) for v in row])
    book.save(target)


def test_template_has_a_sheet_per_table_headers_and_drop_downs(template):
    book = openpyxl.load_workbook(template)
    assert book.sheetnames == ["study", "lists", *TABLES]
    assert book["lists"].sheet_state == "hidden"
    visits = book["visits"]
    assert [c.value for c in visits[1]] == [c.name for c in sheet_columns("visits")]
    assert "required" in visits["A1"].comment.text
    lists = {c.value: i for i, c in enumerate(book["lists"][1])}
    column = openpyxl.utils.get_column_letter(lists["visit_id"] + 1)
    listed = [c.value for c in book["lists"][column][1:] if c.value]
    assert listed == [v.id for v in load_protocol("lian2022").visits]
    sources = {
        str(v.sqref).split(":")[0]: v.formula1 for v in visits.data_validations.dataValidation
    }
    assert sources["B2"] == f"lists!${column}$2:${column}${len(listed) + 1}"
    assert book["study"]["B3"].value == "lian2022"


def test_filled_workbook_reads_back_as_the_same_study(template, tmp_path):
    filled = tmp_path / "small.xlsx"
    _fill(template, EXAMPLES / "small-study", filled)
    study = read_study(EXAMPLES / "small-study")
    back = read_workbook(filled)
    assert back.meta.study_id == "small-study" and back.meta.protocol == "lian2022"
    for name, frame in study.tables().items():
        assert getattr(back, name).equals(frame), name
    out = tmp_path / "study"
    result = runner.invoke(app, ["import", "excel", str(filled), "--out", str(out)])
    assert result.exit_code == DONE, result.output
    assert read_study(out).measurements.equals(study.measurements)


def test_excel_date_cells_and_empty_rows_keep_their_row_numbers(template, tmp_path):
    book = openpyxl.load_workbook(template)
    sheet = book["participants"]
    sheet.append(["P1", "S1", "F", dt.datetime(1970, 5, 1), None, dt.datetime(2020, 1, 2)])
    sheet.append([])  # Excel row 3 left empty
    sheet.append(["P2", "S1", "X", "1971-02-03", None, "2020-01-32"])
    book.save(tmp_path / "b.xlsx")
    study = read_workbook(tmp_path / "b.xlsx")
    assert study.participants["birth_date"].to_list() == [dt.date(1970, 5, 1), dt.date(1971, 2, 3)]
    found = {(f.row, f.column): f for f in validate(study) if f.severity == "error"}
    assert set(found) == {(4, "sex"), (4, "enrollment_date")}  # Excel row 4, not frame row 2
    assert found[(4, "sex")].file == f"{tmp_path / 'b.xlsx'}, sheet participants"


def test_cli_import_of_a_workbook_with_errors_writes_nothing(template, tmp_path):
    book = openpyxl.load_workbook(template)
    book["participants"].append(["P1", "S1", "F", None, "forty", "2020-01-02"])
    book.save(tmp_path / "bad.xlsx")
    out = tmp_path / "study"
    result = runner.invoke(app, ["import", "excel", str(tmp_path / "bad.xlsx"), "--out", str(out)])
    assert result.exit_code == FINDINGS, result.output
    assert "bad.xlsx, sheet participants" in result.output and "not a number" in result.output
    assert not out.exists()


def test_not_a_workbook_is_refused(tmp_path):
    fake = tmp_path / "data.xlsx"
    fake.write_text("participant_id,site_id\n")
    with pytest.raises(StudyReadError, match=r"not an \.xlsx workbook"):
        read_workbook(fake)
    result = runner.invoke(app, ["import", "excel", str(fake), "--out", str(tmp_path / "o")])
    assert result.exit_code == BAD_INPUT


def test_template_is_never_written_over_a_workbook(template):
    result = runner.invoke(app, ["export", "template", "--protocol", "lian2022", str(template)])
    assert result.exit_code == BAD_INPUT
    result = runner.invoke(app, ["export", "template", "--protocol", "nope", str(template) + "x"])
    assert result.exit_code == BAD_INPUT


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    heights=st.lists(
        st.one_of(
            st.floats(100, 220, allow_nan=False).map(lambda x: round(x, 1)),
            st.text(alphabet="abc,;/ -", min_size=1, max_size=6),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_cell_in_a_number_column_is_read_or_named_at_its_excel_row(tmp_path, heights):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "participants"
    sheet.append(["participant_id", "site_id", "sex", "enrollment_date", "height_cm"])
    for i, h in enumerate(heights):  # a test building a small workbook
        sheet.append([f"P{i}", "S1", "F", "2020-01-01", h])
    file = Path(tempfile.mkdtemp(dir=tmp_path)) / "h.xlsx"
    book.save(file)
    study = read_workbook(file)
    bad = {f.row: f.value for f in validate(study) if f.column == "height_cm"}
    for i, h in enumerate(heights):
        if isinstance(h, float):
            assert study.participants["height_cm"][i] == pytest.approx(h)
        elif h.strip():  # text that is not a number: an error at Excel row i + 2
            assert bad[i + 2] == h.strip() or bad[i + 2] == h


def test_repeated_and_unnamed_headers_are_findings(tmp_path):
    # a participants sheet whose header repeats site_id (column C) and skips column D
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "participants"
    sheet.append(["participant_id", "site_id", "site_id", None, "sex", "enrollment_date"])
    sheet.append(["P01", "S01", "S02", "note", "M", "2019-03-04"])
    path = tmp_path / "dup.xlsx"
    book.save(path)
    found = read_workbook(path).load_findings
    header = found.filter(pl.col("row") == 1)  # Excel's header row
    got = sorted(header.select("severity", "row", "rule").rows())
    assert got == [
        ("error", 1, "column C repeats the header 'site_id'; only the first is read"),
        ("warning", 1, "column D has no header; its cells are not read"),
    ]
