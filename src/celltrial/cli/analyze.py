"""`celltrial analyze STUDY_DIR [--protocol NAME_OR_FILE] [--rank-tests spss|exact] --out DIR`:
every analysis of the study, written as results.json (with per_participant/*.parquet),
tables.xlsx, tables.docx, figures and report.html.

Exit 0 when written, 1 when the study has validation errors (nothing analysed), 2 when the
study or protocol cannot be read (one line, no traceback).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from celltrial.analysis import analyze_study
from celltrial.analysis.ranking import DEFAULT_RANK_TESTS, RANK_TESTS
from celltrial.cli import app
from celltrial.cli.consoles import stdout_console
from celltrial.cli.exits import DONE, bad_input
from celltrial.cli.study_input import valid_study
from celltrial.cli.wording import counted
from celltrial.report import write_outputs

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
    if out.exists() and not out.is_dir():  # before any work: the user can fix it at once
        bad_input(f"cannot write to {out}: it is a file, not a folder")
    study, proto = valid_study(study_dir, protocol, protocol_required=False)
    console = stdout_console()
    with console.status("analysing ..."):
        # checked just above, by valid_study
        results = analyze_study(study, proto, rank_tests=rank_tests.value, check="skip")
    try:
        with console.status(f"writing {out} ..."):
            paths = write_outputs(results, out)
    except OSError as exc:  # no such parent, read-only, a file in the way, disk full
        bad_input(f"cannot write to {out}: {exc.strerror or exc}")
    console.print(f"results: {paths.results_json} (rank tests: {results.meta['rank_tests']})")
    console.print(
        f"per participant: {counted(len(paths.per_participant), 'file')} "
        f"in {out / 'per_participant'}"
    )
    console.print(f"tables:  {paths.xlsx}, {paths.docx}")
    console.print(f"figures: {counted(len(paths.figures), 'file')} in {out / 'figures'}")
    console.print(f"report:  {paths.html}")
    raise typer.Exit(DONE)
