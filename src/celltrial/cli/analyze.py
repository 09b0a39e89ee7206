"""`celltrial analyze STUDY_DIR [--protocol NAME_OR_FILE] [--rank-tests spss|exact] --out DIR`:
every analysis of the study, written as results.json (with per_participant/*.parquet),
tables.xlsx, tables.docx, figures and report.html.

Exit 0 when written, 1 when the study has validation errors (nothing analysed), 2 when the
study or protocol cannot be read (one line, no traceback).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import NoReturn

import polars as pl
import typer
from rich.console import Console
from rich.text import Text

from celltrial.analysis import analyze_study
from celltrial.analysis.ranking import DEFAULT_RANK_TESTS, RANK_TESTS
from celltrial.cli import app
from celltrial.cli.consoles import stdout_console
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.cli.study_protocol import protocol_spec
from celltrial.cli.validate import finding_lines
from celltrial.cli.wording import counted
from celltrial.data import StudyReadError, read_study, validate
from celltrial.protocol import ProtocolError, load_protocol
from celltrial.report import write_outputs

_SHOWN_ERRORS = 5  # validation errors echoed before stopping
# the conventions of celltrial.analysis.ranking, as the choices Typer shows and checks
RankTestsChoice = Enum("RankTestsChoice", {c.upper(): c for c in RANK_TESTS}, type=str)


@app.command("analyze")
def analyze_command(
    study_dir: Path = typer.Argument(..., help="The study folder (study.yaml + table files)."),
    out: Path = typer.Option(..., "--out", help="Folder for results.json, tables, figures, HTML."),
    protocol: str | None = typer.Option(
        None, "--protocol", help="Shipped protocol name or YAML file (default: the study's own)."
    ),
    rank_tests: RankTestsChoice = typer.Option(
        RankTestsChoice(DEFAULT_RANK_TESTS),
        "--rank-tests",
        help=(
            "P-values of the Wilcoxon and Mann-Whitney tests: spss = SPSS 25 Asymp. Sig. "
            "(normal approximation, tie-corrected, no continuity correction) at every n; "
            "exact = exact distribution for at most 50 untied values, else as spss."
        ),
    ),
) -> None:
    """Analyse a study the way the source papers did, and more; write tables, figures, report."""
    err = Console(stderr=True)
    if out.exists() and not out.is_dir():  # before any work: the user can fix it at once
        _bad_input(err, f"cannot write to {out}: it is a file, not a folder")
    try:
        study = read_study(study_dir)
        spec = protocol or study.meta.protocol
        proto = load_protocol(protocol_spec(spec, study_dir)) if spec else None
    except (StudyReadError, ProtocolError) as exc:
        _bad_input(err, f"cannot read input: {_one_line(exc)}")
    findings = validate(study)
    if not findings.ok:
        _report_errors(err, findings)
        raise typer.Exit(FINDINGS)
    console = stdout_console()
    with console.status("analysing ..."):
        results = analyze_study(study, proto, rank_tests=rank_tests.value)
    try:
        with console.status(f"writing {out} ..."):
            paths = write_outputs(results, out)
    except OSError as exc:  # no such parent, read-only, a file in the way, disk full
        _bad_input(err, f"cannot write to {out}: {exc.strerror or exc}")
    console.print(f"results: {paths.results_json} (rank tests: {results.meta['rank_tests']})")
    console.print(
        f"per participant: {counted(len(paths.per_participant), 'file')} "
        f"in {out / 'per_participant'}"
    )
    console.print(f"tables:  {paths.xlsx}, {paths.docx}")
    console.print(f"figures: {counted(len(paths.figures), 'file')} in {out / 'figures'}")
    console.print(f"report:  {paths.html}")
    raise typer.Exit(DONE)


def _one_line(exc: Exception) -> str:
    """The first problem on one line, with how many more there are."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
    more = f" (and {counted(len(lines) - 1, 'more problem')})" if len(lines) > 1 else ""
    return lines[0] + more


def _bad_input(err: Console, message: str) -> NoReturn:
    err.print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(BAD_INPUT)


def _report_errors(err: Console, findings: object) -> None:
    frame = findings.frame.filter(findings.frame["severity"] == "error")
    shown = frame.head(_SHOWN_ERRORS).with_columns(pl.coalesce("file", "table").alias("file"))
    err.print(finding_lines(shown), soft_wrap=True)  # as validate prints them, at most 5
    err.print(
        Text(
            f"{counted(findings.errors, 'validation error')}: "
            f"run `celltrial validate` and fix {'it' if findings.errors == 1 else 'them'} first"
        ),
        style="red",
    )
