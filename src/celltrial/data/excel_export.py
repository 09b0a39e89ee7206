"""A study as a workbook: the template's layout (a 'study' sheet, one sheet per StudyData
table, headers with their notes) filled with the study's rows, so that `celltrial import
excel` (excel_import.read_workbook) reads the same tables back. The measurements sheet also
carries the value and unit as entered (the template leaves them to the import's
conversion), so what was entered survives the round trip."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import xlsxwriter

from celltrial.data.atomic_output import write_new_file
from celltrial.data.excel_template import HEADER, write_header, write_study_sheet
from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData

# Excel shows dates by number format; the import turns a midnight date-time back into a date
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"


def write_workbook(study: StudyData, path: Path) -> Path:
    """The workbook at `path`, written whole (a temporary file renamed into place)."""
    return write_new_file(Path(path), lambda tmp: _write(study, tmp))


def _write(study: StudyData, path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    header = book.add_format(HEADER)
    formats = {
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "datetime": book.add_format({"num_format": DATETIME_FORMAT}),
        "text": book.add_format({"num_format": "@"}),  # ids must not become dates or numbers
    }
    write_study_sheet(book, header, [study.meta.study_id, study.meta.protocol, study.meta.title])
    for table, frame in study.tables().items():  # eight sheets
        _table_sheet(book.add_worksheet(table), table, frame, header, formats)
    book.close()


def _table_sheet(sheet, table: str, frame: pl.DataFrame, header, formats: dict) -> None:
    sheet.freeze_panes(1, 0)
    for j, column in enumerate(TABLES[table].columns):
        kind, values = _cells(frame[column.name])
        write_header(sheet, j, table, column, header, formats.get(kind))
        sheet.write_column(1, j, values, formats.get(kind))  # a column at a time, not a row


def _cells(series: pl.Series) -> tuple[str, list]:
    """The column's cells as Excel takes them: numbers as numbers, dates as dates, true or
    false as the text the template's drop-down offers, the rest as text."""
    dtype = series.dtype
    if dtype == pl.Boolean:
        text = pl.when(series).then(pl.lit("true")).otherwise(pl.lit("false"))
        return "text", pl.select(pl.when(series.is_not_null()).then(text)).to_series().to_list()
    if dtype == pl.Date:
        return "date", series.to_list()
    if isinstance(dtype, pl.Datetime):
        return "datetime", series.to_list()
    if dtype.is_numeric():
        return "number", series.to_list()
    return "text", series.cast(pl.Utf8).to_list()
