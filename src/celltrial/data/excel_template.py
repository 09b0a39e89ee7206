"""The data-entry workbook: a 'study' sheet (study id, protocol, title), one sheet per
StudyData table with its columns as headers (a note on each header gives the description,
the unit and whether it is required), drop-down lists for codes, units, analytes, visits and
screening criteria, and a hidden 'lists' sheet holding them. `celltrial import excel` reads
it back. The visits and criteria come from the protocol, which the caller passes in (the data
layer does not read protocols)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from celltrial.clinical.analytes import ANALYTES
from celltrial.data.atomic_output import write_new_file
from celltrial.data.schema import TABLES, Column
from celltrial.data.validation import RELEASE, SEXES

STUDY_SHEET = "study"
LISTS_SHEET = "lists"
STUDY_KEYS = ("study_id", "protocol", "title")
HEADER = {"bold": True, "bg_color": "#DDEBF7", "border": 1}  # header cells of every sheet
ENTRY_ROWS = 5000  # rows the drop-downs cover below each header
# the measurements sheet takes the value and unit as entered (converted on import)
SHEET_COLUMNS = {"measurements": ("value_as_entered", "unit_as_entered")}
BOOLEAN = ["true", "false"]
CTCAE_GRADES = (1, 5)  # CTCAE v5.0: grades 1 (mild) to 5 (death)


def sheet_columns(table: str) -> list[Column]:
    skip = SHEET_COLUMNS.get(table, ())
    return [c for c in TABLES[table].columns if c.name not in skip]


def _unit(table: str, column: Column) -> str:
    if table == "measurements" and column.name == "value":
        return "in the unit of the next column"
    if column.name.endswith("_pct"):
        return "%"
    suffix = {"_cm": "cm", "_kg": "kg", "_ml": "mL", "_eu_ml": "EU/mL", "_years": "years"}
    return next((u for s, u in suffix.items() if column.name.endswith(s)), "")


def column_note(table: str, column: Column) -> str:
    kind = {
        pl.Utf8: "text",
        pl.Float64: "number",
        pl.Int64: "whole number",
        pl.Boolean: "true or false",
        pl.Date: "date YYYY-MM-DD",
    }.get(column.dtype, "date and time YYYY-MM-DD HH:MM")
    parts = [column.description, f"unit: {_unit(table, column)}" if _unit(table, column) else ""]
    parts += [kind, "required" if column.required else "optional"]
    return "; ".join(p for p in parts if p)


def lists(visits: Sequence[str], criteria: Sequence[str]) -> dict[str, list[str]]:
    """The drop-down lists, by name (one column each on the lists sheet)."""
    units = sorted({u for a in ANALYTES.values() for u in a.accepted_units()})
    return {
        "sex": list(SEXES),
        "boolean": BOOLEAN,
        "release_status": list(RELEASE),
        "analyte": list(ANALYTES),
        "unit": units,
        "visit_id": list(visits),
        "criterion_id": list(criteria),
    }


def _list_of(table: str, column: Column) -> str | None:
    if column.dtype == pl.Boolean:
        return "boolean"
    if column.name in ("sex", "release_status", "analyte", "visit_id", "criterion_id"):
        return column.name
    if table == "measurements" and column.name == "unit":
        return "unit"
    return None


def write_template(
    path: Path, protocol: str, visits: Sequence[str], criteria: Sequence[str]
) -> Path:
    """The workbook at `path`, written whole (a temporary file renamed into place)."""
    return write_new_file(path, lambda tmp: _write(tmp, protocol, visits, criteria))


def _write(path: Path, protocol: str, visits: Sequence[str], criteria: Sequence[str]) -> None:
    book = xlsxwriter.Workbook(str(path))
    header = book.add_format(HEADER)
    required = book.add_format({**HEADER, "bg_color": "#FCE4D6"})
    formats = {
        pl.Date: book.add_format({"num_format": "yyyy-mm-dd"}),
        pl.Datetime: book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        pl.Utf8: book.add_format({"num_format": "@"}),  # text: Excel must not turn ids into dates
    }
    write_study_sheet(book, header, [None, protocol, None])
    named = lists(visits, criteria)
    ranges = _write_lists(book, named)
    for table in TABLES:  # eight sheets
        sheet = book.add_worksheet(table)
        sheet.freeze_panes(1, 0)
        for j, column in enumerate(sheet_columns(table)):
            base = pl.Datetime if isinstance(column.dtype, pl.Datetime) else column.dtype
            style = required if column.required else header
            write_header(sheet, j, table, column, style, formats.get(base))
            _validation(sheet, j, table, column, named, ranges)
    book.close()


def write_study_sheet(book: xlsxwriter.Workbook, header, values: Sequence[str | None]) -> None:
    """The 'study' sheet: each of STUDY_KEYS with its value (blank when None)."""
    sheet = book.add_worksheet(STUDY_SHEET)
    sheet.write_row(0, 0, ["key", "value"], header)
    for i, (key, value) in enumerate(zip(STUDY_KEYS, values, strict=True), 1):
        sheet.write_string(i, 0, key)
        sheet.write_string(i, 1, value or "")
    sheet.set_column(0, 1, 30)


def write_header(sheet, j: int, table: str, column: Column, style, cells) -> None:
    """Column j's header (its name, styled, with its note) and its cells' width and format."""
    sheet.write_string(0, j, column.name, style)
    sheet.write_comment(0, j, column_note(table, column), {"x_scale": 2})
    sheet.set_column(j, j, max(12, len(column.name) + 2), cells)


def _write_lists(book: xlsxwriter.Workbook, named: dict[str, list[str]]) -> dict[str, str]:
    sheet = book.add_worksheet(LISTS_SHEET)
    ranges = {}
    for j, (name, values) in enumerate(named.items()):  # seven lists
        sheet.write_string(0, j, name)
        for i, value in enumerate(values, 1):  # catalogue entries, not data rows
            sheet.write_string(i, j, value)
        col = xl_col_to_name(j)
        ranges[name] = f"={LISTS_SHEET}!${col}$2:${col}${max(2, len(values) + 1)}"
    sheet.hide()
    return ranges


def _validation(sheet, j: int, table: str, column: Column, named, ranges) -> None:
    name = _list_of(table, column)
    if name is not None and named[name]:
        closed = name != "unit"  # units outside the list are reported on import, not refused
        sheet.data_validation(
            1,
            j,
            ENTRY_ROWS,
            j,
            {
                "validate": "list",
                "source": ranges[name],
                "error_type": "stop" if closed else "information",
                "error_message": f"choose a {name} from the list",
            },
        )
    elif table == "adverse_events" and column.name == "grade":
        sheet.data_validation(
            1,
            j,
            ENTRY_ROWS,
            j,
            {
                "validate": "integer",
                "criteria": "between",
                "minimum": CTCAE_GRADES[0],
                "maximum": CTCAE_GRADES[1],
                "error_message": "CTCAE grade 1 to 5",
            },
        )
