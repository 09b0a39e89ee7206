"""report.html: one self-contained file (figures embedded as base64 PNG) with the tables, the
figures and a methods paragraph naming every test and the software versions."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from celltrial.analysis.methods import SOFTWARE
from celltrial.analysis.results import Results
from celltrial.report.figures import FigureFile
from celltrial.report.simulated import simulated_banner
from celltrial.report.tables import ReportTable


def methods_paragraph(r: Results) -> str:
    """The statistical-methods paragraph: every test used, named as a journal names it, and
    the software versions, from the results' meta (celltrial.analysis.methods)."""
    m = r.meta["methods"]
    where = _baseline_phrase(r.meta["baseline_visit_id"], r.meta.get("visit_labels") or {})
    sentences = [
        m["descriptive"],
        f"Quartiles were computed by the {m['quantiles']}.",
        m["wilcoxon"].replace("with baseline", f"with {where}", 1),
        m["hodges_lehmann"],
        m["paired_t"],
        m["multiplicity"],
        m["proportions"],
        m["two_groups"],
        m["mixed_model"],
        m["medication"],
        m["significance"],
        software_sentence(r.meta["software"]),
    ]
    return " ".join(sentences)


def _baseline_phrase(base: str, labels: dict[str, str]) -> str:
    """ "baseline (day 0, before the first infusion)" from the protocol's label of the visit."""
    full = labels.get(base, "")
    if full.lower().startswith("baseline"):
        return "baseline" + full[len("baseline") :]
    return f"baseline ({full})" if full else f"baseline (visit {base})"


def software_sentence(software: dict[str, str]) -> str:
    """ "Analyses were done with CellTrial 0.1.0 in Python 3.11.9 (Polars ..., NumPy ...)."."""
    named = {SOFTWARE.get(k, k): v for k, v in software.items()}
    tool = f"CellTrial {named.pop('CellTrial', 'unknown')}"
    python = f"Python {named.pop('Python', 'unknown')}"
    packages = ", ".join(f"{k} {v}" for k, v in named.items())
    return f"Analyses were done with {tool} in {python} ({packages})."


def write_html(
    r: Results, tables: list[ReportTable], figures: list[FigureFile], path: Path, title: str
) -> None:
    env = Environment(
        loader=PackageLoader("celltrial.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    embedded = [
        {
            "key": f.key,
            "title": f.title,
            "caption": f.caption,
            "data": base64.b64encode(f.png.read_bytes()).decode(),
        }
        for f in figures
    ]
    html = env.get_template("report.html.j2").render(
        title=title,
        banner=simulated_banner(r.meta),
        meta=r.meta,
        methods=methods_paragraph(r),
        tables=tables,
        figures=embedded,
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
