"""`celltrial export redcap STUDY_DIR --out DIR`: the study as a REDCap project (data
dictionary, arms, events, instrument designations, repeating instruments, import-ready
records, the project XML) and the mapping that imports it back.

Exit 0 written, 1 the study has errors (nothing written: a broken study would not import
into REDCap), 2 unreadable study or an output folder that is not new or empty.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from celltrial.cli.arguments import study_dir_argument
from celltrial.cli.exchange import export_app
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS, bad_input
from celltrial.cli.validate import SHOWN, checked_folder, print_findings
from celltrial.cli.wording import counted
from celltrial.data import StudyReadError
from celltrial.data.atomic_output import OutputExists, write_new_folder
from celltrial.data.redcap.export import export_redcap
from celltrial.data.redcap.odm_export import PROJECT_XML, write_project


@export_app.command("redcap")
def export_redcap_command(
    study_dir: Path = study_dir_argument(),
    out: Path = typer.Option(..., "--out", help="New (or empty) folder for the REDCap files."),
) -> None:
    """Write the study as files REDCap imports, and mapping.yaml, which imports them back
    (`celltrial import redcap ... --mapping DIR/mapping.yaml`)."""
    err = Console(stderr=True)
    study, findings = checked_folder(study_dir)  # as `celltrial validate` reads and checks
    if not findings.ok:
        print_findings(findings, SHOWN, study_dir)
        typer.echo(f"nothing written to {out}: fix the errors (celltrial validate {study_dir})")
        raise typer.Exit(FINDINGS)
    try:
        export = export_redcap(study)
    except StudyReadError as exc:
        bad_input(f"cannot export: {exc}")

    def fill(folder: Path) -> None:
        write_project(export, folder, study.meta.study_id, study.meta.title)

    try:
        write_new_folder(out, fill)
    except OutputExists as exc:
        err.print(Text(str(exc), style="red"), soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None
    rows = export.records.height
    typer.echo(
        f"wrote {out}: data_dictionary.csv ({counted(export.dictionary.height, 'field')}), "
        f"records.csv ({counted(rows, 'row')}), events.csv, arms.csv, "
        f"instrument_designation.csv, repeating_instruments.csv, {PROJECT_XML}, mapping.yaml"
    )
    raise typer.Exit(DONE)
