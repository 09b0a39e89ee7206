"""`celltrial validate STUDY_DIR`: check a study folder and list what is wrong.

Exit 0 when there are no errors (warnings alone pass), 1 when errors are found, 2 when the
folder cannot be read as a study or the options contradict each other (one line, no
traceback). The protocol study.yaml names is loaded as `analyze` will load it, so a study
that validates can be analysed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from celltrial.cli import app
from celltrial.cli.arguments import study_dir_argument
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.cli.study_protocol import study_protocol
from celltrial.data import Findings, StudyReadError, read_study, validate
from celltrial.data.findings import ERROR, concat_findings

SHOWN = 50  # rows printed by default, so a million findings do not flood the terminal


@app.command("validate")
def validate_command(
    study_dir: Path = study_dir_argument(),
    show_all: bool = typer.Option(False, "--all", help="Print every finding, not the first 50."),
    as_json: bool = typer.Option(False, "--json", help="Print all findings as JSON lines."),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help=f"How many findings to print (default {SHOWN})."
    ),
) -> None:
    """Check a study folder: types, required values, keys, references, units, ranges, dates,
    and the protocol study.yaml names (and the screening criteria it defines).

    --all, --json and --limit choose one way of printing: give at most one.
    Rows are 1-based data rows of each file (the header is not counted).
    """
    err = Console(stderr=True)
    chosen = [name for name, given in _printing_options(show_all, as_json, limit) if given]
    if len(chosen) > 1:
        err.print(Text(f"{' and '.join(chosen)} cannot be used together: give one"), style="red")
        raise typer.Exit(BAD_INPUT)
    try:
        study = read_study(study_dir)
    except StudyReadError as exc:
        err.print(Text(f"cannot read study: {exc}", style="red"), soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None
    protocol = study_protocol(study, study_dir)
    findings = validate(study)
    findings = errors_first(Findings(concat_findings([findings.frame, protocol.findings])))
    if as_json:
        _print_json(findings)
    else:
        _print_table(findings, None if show_all else (limit or SHOWN))
    raise typer.Exit(DONE if findings.ok else FINDINGS)


def _printing_options(show_all: bool, as_json: bool, limit: int | None) -> list[tuple[str, bool]]:
    return [("--all", show_all), ("--json", as_json), ("--limit", limit is not None)]


def errors_first(findings: Findings) -> Findings:
    """Errors before warnings, then by file (or table) and row, so a capped listing never
    hides an error behind warnings; file-level findings (no row) come first in their file."""
    order = findings.frame.with_columns(
        (pl.col("severity") != ERROR).alias("_warning"),
        pl.coalesce("file", "table").alias("_where"),
    ).sort("_warning", "_where", "row", nulls_last=False, maintain_order=True)
    return Findings(order.drop("_warning", "_where"))


def _print_json(findings: Findings) -> None:
    # one JSON object per line, streamable into jq or a spreadsheet import
    for row in findings.frame.iter_rows(named=True):
        typer.echo(json.dumps(row, ensure_ascii=False))


def _print_table(findings: Findings, limit: int | None) -> None:
    # piped output (files, CI logs) gets wide rows instead of wrapped 80-column cells
    out = Console(width=None if sys.stdout.isatty() else 200)
    shown = findings.frame if limit is None else findings.frame.head(limit)
    if shown.height:
        table = Table("severity", "file", "row", "column", "value", "rule", show_lines=False)
        for r in shown.iter_rows(named=True):  # at most `limit` rows unless --all
            colour = "red" if r["severity"] == "error" else "yellow"
            # Text(), not markup: values such as "[IU]/mL" must print as typed
            table.add_row(
                Text(r["severity"], style=colour),
                Text(r["file"] or r["table"]),
                Text("" if r["row"] is None else str(r["row"])),
                Text(r["column"] or ""),
                Text("" if r["value"] is None else r["value"]),
                Text(r["rule"]),
            )
        out.print(table)
    rest = findings.frame.height - shown.height
    if rest:
        out.print(f"... and {rest} more (use --all or --json to see them)")
    verdict = "[green]valid[/green]" if findings.ok else "[red]not valid[/red]"
    out.print(f"{findings.errors} errors, {findings.warnings} warnings: {verdict}")
