"""`celltrial import redcap`: a REDCap project (dictionary + records CSV, or the project XML)
and a mapping YAML into a study folder; `--draft-mapping` writes a first mapping instead.

Exit 0 written (warnings alone pass), 1 findings with errors (nothing written), 2 a file that
cannot be read, a mapping that does not fit the project, or contradictory options.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from celltrial.cli.exchange import import_app
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS, bad_input
from celltrial.cli.study_protocol import study_protocol
from celltrial.cli.validate import SHOWN, errors_first, print_findings
from celltrial.cli.wording import counted
from celltrial.data import Findings, StudyReadError, write_study
from celltrial.data.findings import concat_findings
from celltrial.data.redcap import MappingError, Project, import_redcap, load_mapping
from celltrial.data.redcap.draft import draft_mapping
from celltrial.data.redcap.odm import read_project_xml
from celltrial.data.redcap.project import read_csv_project


@import_app.command("redcap")
def import_redcap_command(
    dictionary: Path | None = typer.Option(None, "--dictionary", help="Data dictionary CSV."),
    records: Path | None = typer.Option(None, "--records", help="Record export CSV."),
    events: Path | None = typer.Option(
        None, "--events", help="Instrument designations CSV (longitudinal projects)."
    ),
    project_xml: Path | None = typer.Option(
        None, "--project-xml", help="REDCap project XML (CDISC ODM), instead of the CSVs."
    ),
    mapping: Path | None = typer.Option(None, "--mapping", help="Mapping YAML."),
    out: Path | None = typer.Option(None, "--out", help="Study folder to write."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    draft: Path | None = typer.Option(
        None, "--draft-mapping", help="Write a first mapping YAML from the dictionary and stop."
    ),
    show_all: bool = typer.Option(False, "--all", help="Print every finding, not the first 50."),
) -> None:
    """Import a REDCap project into a study folder, as the mapping says.

    Give --dictionary and --records (and --events for a longitudinal project), or
    --project-xml. Findings name the REDCap file, row, field, record, event and instance;
    the study is written only when it has no errors.
    """
    err = Console(stderr=True)
    project = _project_or_exit(err, dictionary, records, events, project_xml)
    if draft is not None:
        _write_draft(err, project, draft)
        raise typer.Exit(DONE)
    if mapping is None or out is None or fmt not in ("csv", "parquet"):
        _refuse(err, "give --mapping M and --out STUDY_DIR (--format csv or parquet)")
    try:
        imported = import_redcap(project, load_mapping(mapping))
    except MappingError as exc:
        for issue in exc.issues:  # one line per problem of the mapping
            err.print(Text(str(issue), style="red"), soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None
    protocol = study_protocol(imported.study, out)
    findings = errors_first(Findings(concat_findings([imported.findings.frame, protocol.findings])))
    print_findings(findings, None if show_all else SHOWN, _common_folder(project.files))
    if imported.unmapped:
        shown = ", ".join(imported.unmapped)
        typer.echo(f"{counted(len(imported.unmapped), 'field')} not mapped: {shown}")
    if not findings.ok:
        typer.echo(f"nothing written to {out}: fix the errors above and import again")
        raise typer.Exit(FINDINGS)
    path = write_study(imported.study, out, format=fmt)  # type: ignore[arg-type]
    study = imported.study
    typer.echo(
        f"wrote {path}: {counted(study.participants.height, 'participant')}, "
        f"{counted(study.visits.height, 'visit')}, "
        f"{counted(study.measurements.height, 'measurement')}, "
        f"{counted(study.adverse_events.height, 'adverse event')}"
    )
    raise typer.Exit(DONE)


def _refuse(err: Console, message: str) -> None:
    err.print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


def _project_or_exit(
    err: Console,
    dictionary: Path | None,
    records: Path | None,
    events: Path | None,
    project_xml: Path | None,
) -> Project:
    csv_given = dictionary is not None or records is not None
    if csv_given == (project_xml is not None):
        _refuse(err, "give --dictionary and --records, or --project-xml (one of the two)")
    try:
        if project_xml is not None:
            return read_project_xml(project_xml)
        if dictionary is None or records is None:
            _refuse(err, "--dictionary and --records go together")
        return read_csv_project(dictionary, records, events)  # type: ignore[arg-type]
    except StudyReadError as exc:
        bad_input(f"cannot read: {exc}")


def _write_draft(err: Console, project: Project, target: Path) -> None:
    if target.exists():
        _refuse(err, f"{target}: exists; the draft is never written over a mapping")
    target.write_text(draft_mapping(project), encoding="utf-8")
    typer.echo(f"wrote {target}: check each '# check' line, then import with --mapping {target}")


def _common_folder(files: list[str]) -> Path:
    """The folder the printer names files relative to (the inputs usually share one)."""
    try:
        return Path(os.path.commonpath([str(Path(f).parent) for f in files]))
    except ValueError:  # absolute and relative paths mixed
        return Path(".")
