"""tables.xlsx: one formatted sheet per report table (xlsxwriter), numbers stored as numbers.

A table's `sheet` frame holds its numbers (n as integers, values as floats); each column gets
the number format the table names (the row's decimals for analyte values), so a cell shows
what the document shows and still computes in Excel.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import xlsxwriter

from celltrial.report.tables import DP, ROW_DECIMALS, ReportTable

_MAX_WIDTH = 60  # characters; long notes wrap instead of widening the column
_FIRST_ROW = 3  # title, blank, header above the rows


class _Formats:
    """xlsxwriter formats made once per (number format, last row) and reused."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book, self.cache = book, {}

    def get(self, num_format: str | None, last: bool) -> object:
        key = (num_format, last)
        if key not in self.cache:
            props = {"bottom": 1} if last else {}
            if num_format:
                props["num_format"] = num_format
            self.cache[key] = self.book.add_format(props)
        return self.cache[key]


def _decimals_format(dp: int | None) -> str:
    return "0" if not dp else "0." + "0" * int(dp)


def _cell(value: object) -> object:
    """NaN and infinity as empty cells (Excel has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_rows(ws: object, t: ReportTable, fmt: _Formats) -> tuple[list[str], int]:
    data = t.sheet if t.sheet is not None else t.frame
    cols = [c for c in data.columns if c != ROW_DECIMALS]
    dps = data[ROW_DECIMALS].to_list() if ROW_DECIMALS in data.columns else [None] * data.height
    last_row = data.height - 1
    for j, c in enumerate(cols):  # one pass per column; cells written as the frame holds them
        num = t.formats.get(c)
        for i, value in enumerate(data[c].to_list()):
            f = _decimals_format(dps[i]) if num == DP else num
            ws.write(_FIRST_ROW + i, j, _cell(value), fmt.get(f, i == last_row))
    return cols, data.height


def _widths(data: pl.DataFrame, cols: list[str]) -> list[int]:
    return [
        min(max([len(c), *(len(str(v)) for v in data[c].to_list() if v is not None)]) + 2, 60)
        for c in cols
    ]


def write_xlsx(tables: list[ReportTable], path: Path, banner: str = "") -> None:
    """Write every table to its own sheet: title, the banner (a simulated study says so on
    every sheet), header with rules, rows, note."""
    tmp = path.with_name(path.name + ".tmp")
    book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "nan_inf_to_errors": False})
    title = book.add_format({"bold": True, "font_size": 12})
    head = book.add_format({"bold": True, "top": 1, "bottom": 1, "text_wrap": True})
    note = book.add_format({"italic": True, "font_size": 9})
    warn = book.add_format({"bold": True, "font_color": "#9c0006"})
    fmt = _Formats(book)
    for t in tables:  # one sheet per table
        ws = book.add_worksheet(t.key[:31])
        ws.write(0, 0, t.title, title)
        if banner:
            ws.write(1, 0, banner, warn)
        if t.omitted:
            ws.write(2, 0, t.note)
            continue
        data = t.sheet if t.sheet is not None else t.frame
        cols = [c for c in data.columns if c != ROW_DECIMALS]
        ws.write_row(2, 0, cols, head)
        _, n = _write_rows(ws, t, fmt)
        if t.note:
            ws.write(_FIRST_ROW + n + 1, 0, t.note, note)
        for j, width in enumerate(_widths(data, cols)):
            ws.set_column(j, j, min(width, _MAX_WIDTH))
    book.close()
    tmp.replace(path)
