"""A study a command can work on: read, its protocol loaded, and valid. Commands that need
all three (export formats) call `valid_study`; it exits 2 when the input cannot be read and 1
when the study has validation errors, printing them as `celltrial validate` does."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.text import Text

from celltrial.cli.exits import FINDINGS, bad_input
from celltrial.cli.study_protocol import protocol_spec
from celltrial.cli.validate import finding_lines
from celltrial.cli.wording import counted
from celltrial.data import StudyData, StudyReadError, read_study
from celltrial.data.findings import errors_first
from celltrial.protocol import ProtocolError, load_protocol
from celltrial.protocol.conformance import study_findings
from celltrial.protocol.model import Protocol

SHOWN_ERRORS = 5  # validation errors echoed before stopping


def one_line(exc: Exception) -> str:
    """The first problem on one line, with how many more there are."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
    more = f" (and {counted(len(lines) - 1, 'more problem')})" if len(lines) > 1 else ""
    return lines[0] + more


def report_errors(findings: object) -> None:
    err = Console(stderr=True)
    frame = findings.frame.filter(findings.frame["severity"] == "error")
    shown = frame.head(SHOWN_ERRORS).with_columns(pl.coalesce("file", "table").alias("file"))
    err.print(finding_lines(shown), soft_wrap=True)  # as validate prints them, at most 5
    err.print(
        Text(
            f"{counted(findings.errors, 'validation error')}: "
            f"run `celltrial validate` and fix {'it' if findings.errors == 1 else 'them'} first"
        ),
        style="red",
    )


def valid_study(
    study_dir: Path, protocol: str | None, *, protocol_required: bool = True
) -> tuple[StudyData, Protocol | None]:
    """The study and its protocol (`protocol`, else the one study.yaml names), checked by the
    rules `celltrial validate` applies, the protocol's included."""
    try:
        study = read_study(study_dir, check="skip")  # checked below, with the protocol
        spec = protocol or study.meta.protocol
        if not spec and protocol_required:
            bad_input(f"{study_dir}: study.yaml names no protocol; give one with --protocol")
        proto = load_protocol(protocol_spec(spec, study_dir)) if spec else None
    except (StudyReadError, ProtocolError) as exc:
        bad_input(f"cannot read input: {one_line(exc)}")
    findings = study_findings(study, proto)  # what `celltrial validate` finds
    if not findings.ok:
        report_errors(errors_first(findings))
        raise typer.Exit(FINDINGS)
    return study, proto
