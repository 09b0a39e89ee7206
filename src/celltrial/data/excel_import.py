"""A workbook back into a study: the 'study' sheet gives the study id, protocol and title, each
sheet named as a StudyData table gives that table. Cells are read as text and typed by the
same conform_table as a study folder's CSV files, so the rules and messages are the same;
findings name the workbook, the sheet and the row as Excel numbers it (header = row 1).
"""

from __future__ import annotations

import zipfile
from itertools import zip_longest
from pathlib import Path

import openpyxl
import polars as pl
from openpyxl.utils import get_column_letter

from celltrial.data.canonical import entry_names
from celltrial.data.excel_template import LISTS_SHEET, STUDY_SHEET
from celltrial.data.findings import (
    ERROR,
    WARNING,
    Finding,
    at_file_rows,
    concat_findings,
    findings_frame,
)
from celltrial.data.folder import conform_table
from celltrial.data.read_error import StudyReadError
from celltrial.data.schema import TABLES, empty_frame
from celltrial.data.study import StudyData, StudyMeta

MAX_BYTES = 200 << 20  # 200 MiB of xlsx (zipped XML): far beyond a data-entry workbook
FIRST_ROW = 2  # Excel's row number of the first data row (the header is row 1)


def sheet_label(path: Path, sheet: str) -> str:
    return f"{path}, sheet {sheet}"


def read_workbook(path: str | Path) -> StudyData:
    """The study in the workbook; cells that do not fit are findings (validate() reports
    them with the rest); a file that is not a readable workbook raises StudyReadError."""
    file = Path(path)
    sheets, headers = _sheets(file)
    meta, found = _meta(sheets.pop(STUDY_SHEET, None), file)
    found += [_header_findings(name, header, sheet_label(file, name)) for name, header in headers]
    sheets.pop(LISTS_SHEET, None)
    frames, sources, rows, names = {}, {}, {}, {}
    for name, raw in sheets.items():  # a sheet per table
        if name not in TABLES:
            rule = f"sheet {name!r} is not a table ({', '.join(TABLES)}); not read"
            found.append(
                findings_frame([Finding(WARNING, name, None, None, None, rule, str(file))])
            )
            continue
        label = sheet_label(file, name)
        text, excel_rows = _filled_rows(raw)
        typed, table_findings = conform_table(text, TABLES[name], label)
        frames[name] = typed if text.height else empty_frame(name)
        found.append(at_file_rows(table_findings, excel_rows))
        sources[name], rows[name] = label, excel_rows
        if name == "measurements":  # findings name the sheet's value/unit columns
            names[name] = entry_names(text.columns)
    return StudyData(
        meta=meta,
        **frames,
        load_findings=concat_findings(found),
        source_files=sources,
        file_rows=rows,
        file_columns=names,
    )


def _header_findings(sheet: str, header: list[str], label: str) -> pl.DataFrame:
    """A repeated column header (its second column is not read: which one holds the data?)
    is an error; an unnamed column is a warning (its cells are not read)."""
    found = []
    last_named = max((j for j, name in enumerate(header) if name), default=-1)
    for j, name in enumerate(header):
        column = get_column_letter(j + 1)
        if name and name in header[:j]:
            rule = f"column {column} repeats the header {name!r}; only the first is read"
            found.append(Finding(ERROR, sheet, 1, name, name, rule, label))
        elif not name and j < last_named:  # a gap between named columns
            rule = f"column {column} has no header; its cells are not read"
            found.append(Finding(WARNING, sheet, 1, None, None, rule, label))
    return findings_frame(found)


def _sheets(file: Path) -> tuple[dict[str, pl.DataFrame], list[tuple[str, list[str]]]]:
    if not file.is_file():
        raise StudyReadError(f"{file}: no such file (expected an .xlsx workbook)")
    if file.stat().st_size > MAX_BYTES:
        raise StudyReadError(
            f"{file}: larger than {MAX_BYTES >> 20} MiB; not a data-entry workbook"
        )
    if not zipfile.is_zipfile(file):
        raise StudyReadError(f"{file}: not an .xlsx workbook (save it as Excel Workbook .xlsx)")
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StudyReadError(f"{file}: cannot be read as a workbook ({first})") from None
    try:
        read = {sheet.title: _text_frame(sheet) for sheet in book.worksheets}
    finally:
        book.close()
    return {k: frame for k, (frame, _) in read.items()}, [(k, h) for k, (_, h) in read.items()]


def _text_frame(sheet: object) -> tuple[pl.DataFrame, list[str]]:
    """Every cell as text (typing is conform_table's job); Excel's empty rows kept, so that
    frame rows keep their Excel numbers. openpyxl hands over cells one by one; the columns
    are then converted whole (a date cell becomes '2020-01-02 00:00:00', a number '3')."""
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[attr-defined]
    if not rows:
        return pl.DataFrame(), []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    columns = list(zip_longest(*rows[1:], fillvalue=None)) if len(rows) > 1 else []
    data = {
        name: pl.Series(
            name,
            columns[j] if j < len(columns) else [None] * (len(rows) - 1),
            dtype=pl.Utf8,
            strict=False,
        )
        for j, name in enumerate(header)
        if name and name not in header[:j]  # unnamed and repeated headers: _header_findings
    }
    return pl.DataFrame(data), header


def _meta(sheet: pl.DataFrame | None, file: Path) -> tuple[StudyMeta, list[pl.DataFrame]]:
    values: dict[str, str] = {}
    if sheet is not None and sheet.width >= 2:
        keys = sheet[:, 0].str.strip_chars()
        values = dict(zip(keys.to_list(), sheet[:, 1].to_list(), strict=True))
    study_id = values.get("study_id") or file.stem
    found = []
    if not values.get("study_id"):
        rule = f"no study_id on the '{STUDY_SHEET}' sheet; the file name {file.stem!r} is used"
        found.append(
            findings_frame([Finding(WARNING, STUDY_SHEET, None, "study_id", None, rule, str(file))])
        )
    meta = StudyMeta(
        study_id=study_id,
        protocol=values.get("protocol") or None,
        title=values.get("title") or None,
    )
    return meta, found


def _filled_rows(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Rows with a filled cell, text stripped, dates without Excel's midnight; and the
    Excel row number of each."""
    text = raw.with_columns(
        pl.col(c).str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")
        for c in raw.columns
    ).with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in raw.columns)
    filled = (
        pl.any_horizontal(pl.col(c).is_not_null() for c in text.columns)
        if text.width
        else pl.lit(False)
    )
    rows = text.select(
        pl.int_range(FIRST_ROW, pl.len() + FIRST_ROW).alias("row"), filled.alias("f")
    )
    keep = rows["f"]
    return text.filter(keep), rows.filter(keep)["row"].cast(pl.Int64)
