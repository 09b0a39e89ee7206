"""`celltrial validate STUDY_DIR`: check a study folder and list what is wrong.

Exit 0 when there are no errors (warnings alone pass), 1 when errors are found, 2 when the
folder cannot be read as a study or the options contradict each other (one line, no
traceback). The protocol study.yaml names is loaded as `analyze` will load it, so a study
that validates can be analysed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from celltrial.cli import app
from celltrial.cli.arguments import study_dir_argument
from celltrial.cli.consoles import PIPED_WIDTH, stdout_console
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.cli.study_protocol import study_protocol
from celltrial.cli.wording import counted, errors_and_warnings
from celltrial.data import Findings, StudyData, StudyReadError, read_study, validate
from celltrial.data.findings import ERROR, concat_findings, errors_first

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
    files that are not tables, and the study against the protocol study.yaml names
    (screening criteria, lot release, doses, visit windows).

    --all, --json and --limit choose one way of printing: give at most one.
    Rows are 1-based data rows of each file (the header is not counted).
    """
    err = Console(stderr=True)
    chosen = [name for name, given in _printing_options(show_all, as_json, limit) if given]
    if len(chosen) > 1:
        err.print(Text(f"{' and '.join(chosen)} cannot be used together: give one"), style="red")
        raise typer.Exit(BAD_INPUT)
    _, findings = checked_folder(study_dir)
    if as_json:
        _print_json(findings)
    else:
        print_findings(findings, None if show_all else (limit or SHOWN), study_dir)
    raise typer.Exit(DONE if findings.ok else FINDINGS)


def checked_folder(study_dir: Path) -> tuple[StudyData, Findings]:
    """The study in the folder and what `celltrial validate` finds in it (its data and the
    protocol study.yaml names), errors first; exit 2 when the folder cannot be read."""
    try:
        study = read_study(study_dir, check="skip")
    except StudyReadError as exc:
        Console(stderr=True).print(Text(f"cannot read study: {exc}", style="red"), soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None
    return study, study_findings(study, study_dir)


def study_findings(study: StudyData, study_dir: Path) -> Findings:
    """What `celltrial validate` finds in a study read from `study_dir`: its data and the
    protocol study.yaml names (a protocol file is looked up beside it), errors first."""
    protocol = study_protocol(study, study_dir)
    return errors_first(Findings(concat_findings([validate(study).frame, protocol.findings])))


def _printing_options(show_all: bool, as_json: bool, limit: int | None) -> list[tuple[str, bool]]:
    return [("--all", show_all), ("--json", as_json), ("--limit", limit is not None)]


def _print_json(findings: Findings) -> None:
    # one JSON object per line, streamable into jq or a spreadsheet import
    for row in findings.frame.iter_rows(named=True):
        typer.echo(json.dumps(row, ensure_ascii=False))


def print_findings(findings: Findings, limit: int | None, study_dir: Path) -> None:
    """The findings as a table (one line each on a narrow terminal), files named relative
    to `study_dir`, at most `limit` of them, then the count and the verdict."""
    out = stdout_console()
    shown = _relative_files(findings.frame, study_dir)
    shown = shown if limit is None else shown.head(limit)
    if shown.height:
        # the folder once, so each file can be named by itself (the most important cell)
        out.print(Text(f"findings in {study_dir} (files relative to it):"), soft_wrap=True)
        table = _findings_table(shown)
        if _natural_width(out, table) <= out.width:
            out.print(table)
        else:  # a narrow terminal: a table would wrap every rule over lines, so one line each
            out.print(finding_lines(shown), soft_wrap=True)
    rest = findings.frame.height - shown.height
    if rest:
        out.print(f"... and {counted(rest, 'more finding')} (use --all or --json to see them)")
    verdict = "[green]valid[/green]" if findings.ok else "[red]not valid[/red]"
    out.print(f"{errors_and_warnings(findings.errors, findings.warnings)}: {verdict}")


def _natural_width(console: Console, table: Table) -> int:
    """The width the table takes with no cell wrapped (the console's own width caps it)."""
    unbounded = console.options.update_width(PIPED_WIDTH)
    return Measurement.get(console, unbounded, table).maximum


def _relative_files(frame: pl.DataFrame, study_dir: Path) -> pl.DataFrame:
    """Files named relative to the study folder (the header names the folder); a finding
    without a file is named by its table."""
    prefix = f"{study_dir}{os.sep}"
    where = pl.coalesce(pl.col("file").str.strip_prefix(prefix), pl.col("table"))
    return frame.with_columns(where.alias("file"))


def _findings_table(shown: pl.DataFrame) -> Table:
    table = Table("severity", show_lines=False)
    table.add_column("file", overflow="fold")  # fold, never elide: the file matters most
    table.add_column("row")
    table.add_column("column", overflow="fold")
    table.add_column("value", overflow="fold")
    table.add_column("rule")
    for r in shown.iter_rows(named=True):  # at most `limit` rows unless --all
        colour = "red" if r["severity"] == ERROR else "yellow"
        # Text(), not markup: values such as "[IU]/mL" must print as typed
        table.add_row(
            Text(r["severity"], style=colour),
            Text(r["file"]),
            Text("" if r["row"] is None else str(r["row"])),
            Text(r["column"] or ""),
            Text("" if r["value"] is None else r["value"]),
            Text(r["rule"]),
        )
    return table


def finding_lines(shown: pl.DataFrame) -> Text:
    """One line per finding: 'error   measurements.csv row 33, unit = mg: rule'."""
    row = pl.concat_str(pl.lit(" row "), pl.col("row").cast(pl.Utf8))
    column = pl.concat_str(pl.lit(", "), pl.col("column"))
    # with no column (a duplicate key) the rule itself names the key and its values
    value = pl.when(pl.col("column").is_not_null()).then(
        pl.concat_str(pl.lit(" = "), pl.col("value"))
    )
    line = pl.concat_str(
        pl.col("severity").str.pad_end(8),
        pl.col("file"),
        row,
        column,
        value,
        pl.lit(": "),
        pl.col("rule"),
        ignore_nulls=True,
    )
    text = Text("\n".join(shown.select(line).to_series()))
    text.highlight_regex(r"(?m)^error", "red")
    text.highlight_regex(r"(?m)^warning", "yellow")
    return text
