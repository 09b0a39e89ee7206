"""The statistician's page: `analyze` run on the live study's de-identified export (the
same export, reader, validation, analysis and report as `celltrial registry export
--deidentify` then `celltrial analyze`), its report, and the exports."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from celltrial.analysis import analyze_study
from celltrial.data import read_study, validate
from celltrial.registry.models import Membership
from celltrial.registry.models.study import ADMIN, STATISTICIAN
from celltrial.registry.services.access import require_role
from celltrial.registry.services.errors import Refused
from celltrial.registry.services.exchange_exports import FORMATS, export_file
from celltrial.registry.services.exporting import export_study
from celltrial.registry.services.protocols import study_protocol
from celltrial.report import write_outputs
from celltrial.web.pages.access import study_page

ANALYSTS = (ADMIN, STATISTICIAN)
CONTENT_TYPES = {
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FILES = {"report": "report.html", "tables": "tables.xlsx"}  # what write_outputs names


def _out(member: Membership) -> Path:
    return Path(settings.DATA_DIR) / "analyses" / member.study.study_id


@study_page
def analysis_page(request: HttpRequest, member: Membership) -> HttpResponse:
    require_role(member, ANALYSTS, "analyse the study")
    out = _out(member)
    context = {"member": member, "done": (out / FILES["report"]).exists(),
               "findings": request.session.pop("analysis_findings", None),
               "export_problems": request.session.pop("export_problems", None),
               "formats": FORMATS}  # fmt: skip
    return render(request, "pages/analysis.html", context)


@require_POST
@study_page
def run_analysis(request: HttpRequest, member: Membership) -> HttpResponse:
    require_role(member, ANALYSTS, "analyse the study")
    with tempfile.TemporaryDirectory() as tmp:
        folder = export_study(member.study, Path(tmp) / "study", deidentified=True)
        study = read_study(folder)
        found = validate(study)
        if not found.ok:
            errors = found.frame.filter(found.frame["severity"] == "error").head(50)
            request.session["analysis_findings"] = errors.select(
                "table", "row", "column", "rule"
            ).to_dicts()
            return redirect("pages:analysis", study_id=member.study.study_id)
        results = analyze_study(study, study_protocol(member.study))
        staging = Path(tmp) / "out"
        write_outputs(results, staging)
        out = _out(member)
        shutil.rmtree(out, ignore_errors=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging, out)  # the previous report is replaced only by a whole new one
    return redirect("pages:analysis", study_id=member.study.study_id)


@study_page
def analysis_file(request: HttpRequest, member: Membership, name: str) -> HttpResponse:
    require_role(member, ANALYSTS, "read the analysis")
    path = _out(member) / FILES.get(name, "-")
    if name not in FILES or not path.exists():
        raise Http404("no analysis yet")
    return FileResponse(path.open("rb"), as_attachment=name != "report", filename=path.name)


@study_page
def export_zip(request: HttpRequest, member: Membership) -> HttpResponse:
    """The de-identified StudyData folder as a zip, as the API's export?deidentify=true."""
    require_role(member, ANALYSTS, "export the study")
    with tempfile.TemporaryDirectory() as tmp:
        sid = member.study.study_id
        folder = export_study(member.study, Path(tmp) / sid, deidentified=True)
        archive = Path(shutil.make_archive(str(Path(tmp) / "export"), "zip", folder))
        data = archive.read_bytes()
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{sid}-deidentified.zip"'
    return response


@study_page
def export_download(request: HttpRequest, member: Membership, fmt: str) -> HttpResponse:
    """The de-identified study in one of the CLI's formats (exchange_exports); a study the
    format refuses goes back to the page with the reasons."""
    require_role(member, ANALYSTS, "export the study")
    if fmt not in FORMATS:
        raise Http404(f"no export format {fmt!r}")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = export_file(member.study, fmt, Path(tmp))
        except Refused as exc:
            request.session["export_problems"] = [p.message for p in exc.problems]
            return redirect("pages:analysis", study_id=member.study.study_id)
        data, name = path.read_bytes(), path.name
    response = HttpResponse(data, content_type=CONTENT_TYPES[path.suffix])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
