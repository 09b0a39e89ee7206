"""A registry study's de-identified export in the formats the CLI writes: the StudyData
workbook (`celltrial import excel` reads it back), SPSS and Stata files (`celltrial export
spss|stata`), a CDISC SDTM package (`export sdtm`) and a REDCap project (`export redcap`).
The same writers on the same de-identified folder as `registry export --deidentify`; the
formats that need a valid study refuse an invalid one, as the CLI does."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from celltrial.analysis.plan import plan_from_protocol
from celltrial.data import StudyData, StudyReadError, read_study
from celltrial.data.excel_export import write_workbook
from celltrial.data.redcap.export import export_redcap
from celltrial.data.redcap.odm_export import write_project
from celltrial.exchange.sdtm.package import datasets, write_package
from celltrial.exchange.spss_stata import write_statistics_files
from celltrial.protocol import Protocol
from celltrial.protocol.conformance import study_findings
from celltrial.registry.models import Study
from celltrial.registry.services.errors import Problem, Refused
from celltrial.registry.services.exporting import export_study
from celltrial.registry.services.protocols import study_protocol

# format -> what the download is (the page's link text)
FORMATS = {
    "xlsx": "StudyData workbook (XLSX, one sheet per table)",
    "spss": "SPSS .sav, wide and long (zip)",
    "stata": "Stata .dta, wide and long (zip)",
    "sdtm": "CDISC SDTM: CSV, XPT v5 and spec.csv (zip)",
    "redcap": "REDCap import: data dictionary, records CSV, project XML (zip)",
}
SHOWN_ERRORS = 5  # validation errors named in a refusal, as the CLI echoes them


def deidentified(study: Study, tmp: Path) -> StudyData:
    """The study as the statistician's export folder, read back as the CLI reads it."""
    return read_study(export_study(study, tmp / study.study_id, deidentified=True), check="skip")


def export_file(study: Study, fmt: str, tmp: Path) -> Path:
    """The de-identified study written in `fmt` under `tmp`: a workbook, or a zip of the
    format's folder. Refused when the format needs a valid study and the study is not."""
    if fmt not in FORMATS:
        raise Refused([Problem("format", f"format must be one of {', '.join(FORMATS)}", fmt)])
    data = deidentified(study, tmp)
    name = data.meta.study_id
    if fmt == "xlsx":
        return write_workbook(data, tmp / f"{name}.xlsx")
    protocol = _valid(data, study)
    folder = tmp / f"{name}-{fmt}"
    if fmt in ("spss", "stata"):
        folder.mkdir()
        write_statistics_files(data, plan_from_protocol(protocol), fmt, folder)
    elif fmt == "sdtm":
        write_package(datasets(data, protocol), folder)
    else:
        _redcap(data, folder)
    return Path(shutil.make_archive(str(folder), "zip", folder))


def _redcap(data: StudyData, folder: Path) -> None:
    """As `celltrial export redcap` writes it: the import files, mapping.yaml, project.xml."""
    try:
        export = export_redcap(data)
    except StudyReadError as exc:
        raise Refused([Problem(None, f"cannot export to REDCap: {exc}")]) from None
    folder.mkdir()
    write_project(export, folder, data.meta.study_id, data.meta.title)


def _valid(data: StudyData, study: Study) -> Protocol:
    protocol = study_protocol(study)
    if protocol is None:
        raise Refused([Problem(None, f"study {study.study_id} has no protocol: cannot export")])
    found = study_findings(data, protocol)
    errors = found.frame.filter(pl.col("severity") == "error")
    if errors.height:
        raise Refused(
            [
                Problem(None, f"{r['table']} row {r['row']}, {r['column']}: {r['rule']}")
                for r in errors.head(SHOWN_ERRORS).iter_rows(named=True)  # at most five
            ]
            + [Problem(None, f"{errors.height} validation errors: nothing exported")]
        )
    return protocol
