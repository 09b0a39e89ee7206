"""tables.xlsx: one formatted sheet per report table (xlsxwriter)."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from celltrial.report.tables import ReportTable

_MAX_WIDTH = 60  # characters; long notes wrap instead of widening the column


def write_xlsx(tables: list[ReportTable], path: Path) -> None:
    """Write every table to its own sheet: title, header with rules, rows, note."""
    tmp = path.with_name(path.name + ".tmp")
    book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False})
    title = book.add_format({"bold": True, "font_size": 12})
    head = book.add_format({"bold": True, "top": 1, "bottom": 1, "text_wrap": True})
    cell = book.add_format({})
    last = book.add_format({"bottom": 1})
    note = book.add_format({"italic": True, "font_size": 9})
    for t in tables:  # one sheet per table
        ws = book.add_worksheet(t.key[:31])
        ws.write(0, 0, t.title, title)
        cols = t.frame.columns
        ws.write_row(2, 0, cols, head)
        rows = t.frame.rows()
        for i, row in enumerate(rows):
            ws.write_row(3 + i, 0, row, last if i == len(rows) - 1 else cell)
        if t.note:
            ws.write(4 + len(rows), 0, t.note, note)
        for j, c in enumerate(cols):
            width = max([len(c), *(len(r[j] or "") for r in rows)]) + 2
            ws.set_column(j, j, min(width, _MAX_WIDTH))
    book.close()
    tmp.replace(path)
