"""tables.docx: one section per report table, three-line journal style (python-docx)."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from celltrial.report.tables import ReportTable


def _rule(cell: object, edge: str) -> None:
    """A single horizontal rule on one edge of a cell (journal tables: top, header, bottom)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    el = OxmlElement(f"w:{edge}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), "8")
    el.set(qn("w:color"), "000000")
    borders.append(el)


def _table(doc: Document, t: ReportTable) -> None:
    doc.add_heading(t.title, level=2)
    if t.omitted:  # no rows: the sentence saying why, no empty table
        doc.add_paragraph(t.note)
        return
    rows = t.frame.rows()
    table = doc.add_table(rows=1, cols=len(t.frame.columns))
    for c, name in zip(table.rows[0].cells, t.frame.columns, strict=True):
        c.text = name
        for run in c.paragraphs[0].runs:
            run.bold = True
        _rule(c, "top")
        _rule(c, "bottom")
    cells = table.rows[0].cells
    for row in rows:  # add_row().cells is linear; table.cell(i, j) would be quadratic
        cells = table.add_row().cells
        for c, value in zip(cells, row, strict=True):
            c.text = value or ""
    for c in cells:
        _rule(c, "bottom")
    if t.note:
        p = doc.add_paragraph(t.note)
        p.runs[0].italic = True


def write_docx(tables: list[ReportTable], path: Path, title: str, banner: str = "") -> None:
    """Landscape document: the title, the banner (a simulated study says so), the tables."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    doc.styles["Normal"].font.size = Pt(8)
    doc.add_heading(title, level=1)
    if banner:
        doc.add_paragraph().add_run(banner).bold = True
    for t in tables:  # one section per table
        _table(doc, t)
    tmp = path.with_name(path.name + ".tmp")
    doc.save(str(tmp))
    tmp.replace(path)
