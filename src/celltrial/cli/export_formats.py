"""`celltrial export spss|stata|sdtm STUDY_DIR --out DIR`: a valid study as SPSS or Stata
files (wide by visit and long, labelled) or as a CDISC SDTM package (CSV, SAS transport v5
and a variable-level specification). The folder appears complete or not at all.

Exit 0 written, 1 the study has validation errors or the SDTM checks found problems (the
package is still written so they can be looked at), 2 bad usage or unreadable input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from celltrial.analysis.plan import plan_from_protocol
from celltrial.cli.consoles import stdout_console
from celltrial.cli.exchange import export_app
from celltrial.cli.exits import DONE, FINDINGS, bad_input
from celltrial.cli.study_input import valid_study
from celltrial.cli.wording import counted
from celltrial.exchange.output_folder import OutputExists, complete_folder
from celltrial.exchange.sdtm.package import check, datasets, write_package
from celltrial.exchange.spss_stata import StataLimit, write_statistics_files

STUDY = typer.Argument(..., help="The study folder (study.yaml + table files).")
OUT = typer.Option(..., "--out", help="Folder to write (must not exist or be empty).")
PROTOCOL = typer.Option(
    None, "--protocol", help="Shipped protocol name or YAML file (default: the study's own)."
)
FORCE = typer.Option(False, "--force", help="Replace a non-empty output folder.")


def _statistics_files(
    study_dir: Path, out: Path, protocol: str | None, force: bool, fmt: Literal["spss", "stata"]
) -> None:
    study, proto = valid_study(study_dir, protocol)
    plan = plan_from_protocol(proto)
    try:
        with complete_folder(out, force=force) as tmp:
            written = write_statistics_files(study, plan, fmt, tmp)
    except (OutputExists, StataLimit) as exc:
        bad_input(str(exc))
    console = stdout_console()
    for name, table in written.items():
        rows, cols = table.frame.shape
        console.print(f"{out / name}: {counted(rows, 'row')}, {counted(cols, 'variable')}")
    raise typer.Exit(DONE)


@export_app.command("spss")
def export_spss(
    study_dir: Path = STUDY, out: Path = OUT, protocol: str | None = PROTOCOL, force: bool = FORCE
) -> None:
    """SPSS .sav files, wide (one row per participant, hba1c_d28 ...) and long (one row per
    visit), with variable labels, value labels and measurement levels."""
    _statistics_files(study_dir, out, protocol, force, "spss")


@export_app.command("stata")
def export_stata(
    study_dir: Path = STUDY, out: Path = OUT, protocol: str | None = PROTOCOL, force: bool = FORCE
) -> None:
    """Stata .dta files (version 15), wide and long, with variable and value labels."""
    _statistics_files(study_dir, out, protocol, force, "stata")


@export_app.command("sdtm")
def export_sdtm(
    study_dir: Path = STUDY,
    out: Path = OUT,
    protocol: str | None = PROTOCOL,
    country: str | None = typer.Option(
        None, "--country", help="DM.COUNTRY, ISO 3166-1 alpha-3 (e.g. CHN); required by SDTM."
    ),
    force: bool = FORCE,
) -> None:
    """CDISC SDTM: DM, EX, LB, VS, AE, CM, SV, TA, TV and TS as CSV and SAS transport v5
    (.xpt), with spec.csv (dataset, variable, label, type, length, terms, origin)."""
    study, proto = valid_study(study_dir, protocol)
    sets = datasets(study, proto, country)
    try:
        write_package(sets, out, force=force)
    except OutputExists as exc:
        bad_input(str(exc))
    console = stdout_console()
    console.print(
        "  ".join(f"{name} {frame.height}" for name, frame in sets.items()), soft_wrap=True
    )
    console.print(f"written: {out} (CSV, XPT v5, spec.csv)")
    problems = check(sets)
    for p in problems:
        console.print(f"problem: {p}", soft_wrap=True, markup=False)
    if problems:
        console.print(f"{counted(len(problems), 'problem')} found by the SDTM checks")
        raise typer.Exit(FINDINGS)
    console.print("SDTM checks: required values, ISO 8601, --SEQ, USUBJID, terms, XPT limits: ok")
    raise typer.Exit(DONE)
