"""`celltrial export template --protocol P OUT.xlsx`: the data-entry workbook of a protocol;
`celltrial import excel FILE --out STUDY_DIR`: a filled workbook into a study folder.

Exit 0 done (warnings alone pass), 1 the workbook has errors (nothing written), 2 a file
that cannot be read or written, an unknown protocol.
"""

from __future__ import annotations

from pathlib import Path

import typer

from celltrial.cli.exchange import export_app, import_app
from celltrial.cli.exits import DONE, FINDINGS, bad_input
from celltrial.cli.validate import SHOWN, print_findings, study_findings
from celltrial.cli.wording import counted
from celltrial.data import StudyReadError, write_study
from celltrial.data.excel_import import read_workbook
from celltrial.data.excel_template import write_template
from celltrial.protocol import ProtocolError, load_protocol


@export_app.command("template")
def template_command(
    out: Path = typer.Argument(..., metavar="OUT.xlsx", help="The workbook to write."),
    protocol: str = typer.Option(..., "--protocol", help="lian2022, chin2025 or a YAML path."),
) -> None:
    """Write a data-entry workbook: a sheet per table, headers with notes (description, unit,
    required), drop-down lists for codes, units, analytes, visits and screening criteria."""
    if out.suffix.lower() != ".xlsx":
        bad_input(f"{out}: the workbook name must end in .xlsx")
    if out.exists():
        bad_input(f"{out}: exists; a template is never written over a workbook")
    try:
        p = load_protocol(protocol)
    except ProtocolError as exc:
        bad_input(f"cannot load protocol: {exc}")
    visits = [v.id for v in p.visits]
    write_template(out, protocol, visits, [c.id for c in p.eligibility])
    criteria = counted(len(p.eligibility), "screening criterion", "screening criteria")
    typer.echo(
        f"wrote {out}: 8 table sheets for protocol {p.id} "
        f"({counted(len(visits), 'visit')}, {criteria})"
    )
    raise typer.Exit(DONE)


@import_app.command("excel")
def import_excel_command(
    workbook: Path = typer.Argument(..., metavar="FILE.xlsx", help="A filled workbook."),
    out: Path = typer.Option(..., "--out", help="Study folder to write."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    show_all: bool = typer.Option(False, "--all", help="Print every finding, not the first 50."),
) -> None:
    """Read a workbook (as `export template` writes it) into a study folder. Findings name
    the sheet and the row as Excel numbers it; the study is written only without errors."""
    if fmt not in ("csv", "parquet"):
        bad_input(f"--format must be csv or parquet, not {fmt!r}")
    try:
        study = read_workbook(workbook)
    except StudyReadError as exc:
        bad_input(f"cannot read: {exc}")
    findings = study_findings(study, out)
    print_findings(findings, None if show_all else SHOWN, workbook.parent)
    if not findings.ok:
        typer.echo(f"nothing written to {out}: fix the errors above and import again")
        raise typer.Exit(FINDINGS)
    path = write_study(study, out, format=fmt)  # type: ignore[arg-type]
    typer.echo(
        f"wrote {path}: {counted(study.participants.height, 'participant')}, "
        f"{counted(study.visits.height, 'visit')}, "
        f"{counted(study.measurements.height, 'measurement')}"
    )
    raise typer.Exit(DONE)
