"""report.html: one self-contained file (figures embedded as base64 PNG) with the tables, the
figures and a methods paragraph naming every test and the software versions."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from celltrial.analysis.results import Results
from celltrial.report.figures import FigureFile
from celltrial.report.tables import ReportTable


def methods_paragraph(r: Results) -> str:
    """The methods text: every test used and the software versions, from the results' meta."""
    m = r.meta["methods"]
    sw = ", ".join(f"{k} {v}" for k, v in r.meta["software"].items())
    return (
        f"Continuous variables are summarised as mean ± SD and median (Q1, Q3); quartiles are "
        f"the {m['quantiles']}. Each follow-up visit was compared with baseline "
        f"({r.meta['baseline_visit_id']}) by the {m['wilcoxon_exact']}, otherwise the "
        f"{m['wilcoxon_normal']}; the Hodges-Lehmann estimate is the {m['hodges_lehmann']}. "
        f"The {m['paired_t']} is reported beside it. P-values were adjusted by "
        f"{m['multiplicity']}. Proportions are given with the {m['proportions']}. Two groups "
        f"were compared by {m['two_groups']}. A {m['mixed_model']} used all observed values, "
        f"not only completers. Medication doses were normalised by WHO ATC/DDD; insulin is also "
        f"given in U/kg/day. Two-sided P < 0.05 was considered significant. Software: {sw}."
    )


def write_html(
    r: Results, tables: list[ReportTable], figures: list[FigureFile], path: Path, title: str
) -> None:
    env = Environment(
        loader=PackageLoader("celltrial.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    embedded = [
        {"key": f.key, "title": f.title, "data": base64.b64encode(f.png.read_bytes()).decode()}
        for f in figures
    ]
    html = env.get_template("report.html.j2").render(
        title=title, meta=r.meta, methods=methods_paragraph(r), tables=tables, figures=embedded
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
