"""`celltrial registry import STUDY_DIR` and `celltrial registry export STUDY_ID --out DIR`:
a study folder into the registry database and back.

Import checks the folder with the rules of `celltrial validate` and prints its findings
the same way; any error: nothing is written, exit 1.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from celltrial.cli import app
from celltrial.cli.arguments import study_dir_argument
from celltrial.cli.data_dir import data_dir_option, problems_text
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.cli.study_protocol import protocol_spec
from celltrial.cli.validate import checked_folder, print_findings
from celltrial.cli.wording import counted

registry_app = typer.Typer(
    help="Move studies between folders and the registry database.", no_args_is_help=True
)
app.add_typer(registry_app, name="registry")


@registry_app.command("import")
def import_command(
    study_dir: Path = study_dir_argument(), data_dir: Path = data_dir_option()
) -> None:
    """Create a registry study from a study folder (checked as `celltrial validate` checks)."""
    err = Console(stderr=True)
    study, findings = checked_folder(study_dir)
    if not findings.ok:
        print_findings(findings, None, study_dir)
        typer.echo("nothing was written to the registry")
        raise typer.Exit(FINDINGS)
    from celltrial.web.boot import start

    start(data_dir)
    from celltrial.registry.services.errors import Refused
    from celltrial.registry.services.importing import store_study

    spec = study.meta.protocol
    beside = protocol_spec(spec, study_dir) if spec else None
    yaml_text = Path(beside).read_text() if beside and beside != spec else None
    try:
        stored = store_study(study, yaml_text)
    except Refused as exc:
        err.print(Text(problems_text(exc.problems), style="red"), soft_wrap=True)
        raise typer.Exit(FINDINGS) from None
    rows = sum(f.height for f in study.tables().values())
    typer.echo(
        f"imported study {stored.study_id}: {counted(study.participants.height, 'participant')}"
        f", {counted(stored.sites.count(), 'site')}, {counted(rows, 'row')} "
        f"({counted(findings.warnings, 'warning')}) into {data_dir.resolve()}"
    )
    raise typer.Exit(DONE)


@registry_app.command("export")
def export_command(
    study_id: str = typer.Argument(..., metavar="STUDY_ID"),
    out: Path = typer.Option(..., "--out", help="Study folder to write."),
    deidentify: bool = typer.Option(
        False, "--deidentify", help="Pseudonymous ids, dates shifted per participant, no free text."
    ),
    data_dir: Path = data_dir_option(),
) -> None:
    """Write a registry study as a study folder (`celltrial validate` and `analyze` read it)."""
    from celltrial.web.boot import start

    start(data_dir)
    from celltrial.registry.models import Study
    from celltrial.registry.services.exporting import export_study

    study = Study.objects.filter(study_id=study_id).first()
    if study is None:
        known = ", ".join(Study.objects.values_list("study_id", flat=True)) or "none"
        Console(stderr=True).print(f"[red]no study {study_id!r}[/red] (studies: {known})")
        raise typer.Exit(BAD_INPUT)
    path = export_study(study, out, deidentify)
    kind = "de-identified study" if deidentify else "study"
    typer.echo(f"wrote {kind} {study_id} to {path}")
    raise typer.Exit(DONE)
