"""write_outputs: results.json with per_participant/*.parquet, tables.xlsx, tables.docx,
figures/ (PNG, SVG), report.html."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from celltrial.analysis.results import Results
from celltrial.report.document import write_docx
from celltrial.report.figures import write_figures
from celltrial.report.html import write_html
from celltrial.report.simulated import marked, simulated_banner
from celltrial.report.spreadsheet import write_xlsx
from celltrial.report.tables import report_tables


@dataclass(frozen=True)
class Outputs:
    results_json: Path
    xlsx: Path
    docx: Path
    html: Path
    figures: list[Path]
    per_participant: list[Path]


def write_outputs(results: Results, out_dir: Path | str) -> Outputs:
    """Write every output of `results` into `out_dir` (created if needed).

    Each file is written to a temporary name and renamed, so an interrupted run never leaves a
    half-written file under a final name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    title = marked(results.meta, f"CellTrial results: {results.meta['study_id']}")
    tables = report_tables(results)
    figs = write_figures(results, out / "figures")
    paths = Outputs(
        out / "results.json",
        out / "tables.xlsx",
        out / "tables.docx",
        out / "report.html",
        [p for f in figs for p in (f.png, f.svg)],
        [out / w["file"] for w in results.participant_files().values()],
    )
    results.to_json(paths.results_json)
    banner = simulated_banner(results.meta)
    write_xlsx(tables, paths.xlsx, banner)
    write_docx(tables, paths.docx, title, banner)
    write_html(results, tables, figs, paths.html, title)
    return paths
