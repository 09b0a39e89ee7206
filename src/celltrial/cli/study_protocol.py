"""The protocol a study names in study.yaml, found and checked the same way by every verb
(`validate`, `analyze`): a shipped protocol name, or a YAML file relative to the study
folder. The checks against the protocol are protocol.conformance's, which analyze_study
runs too; this module finds the protocol and turns a load failure into a finding."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from celltrial.cli.wording import counted
from celltrial.data import StudyData
from celltrial.data.findings import ERROR, Finding, empty_findings, findings_frame
from celltrial.protocol import Protocol, ProtocolError, load_protocol, shipped_protocols
from celltrial.protocol.conformance import protocol_findings

NOT_FOUND = "no shipped protocol or file of this name"


@dataclass(frozen=True)
class StudyProtocol:
    protocol: Protocol | None  # None when study.yaml names none or it cannot be loaded
    findings: pl.DataFrame  # findings frame (celltrial.data.findings.FINDING_SCHEMA)


def protocol_spec(spec: str, study_dir: Path) -> str:
    """A protocol named in study.yaml may be a file next to it (relative to the folder)."""
    beside = study_dir / spec
    return str(beside) if not Path(spec).is_absolute() and beside.is_file() else spec


def study_protocol(study: StudyData, study_dir: Path) -> StudyProtocol:
    """Load the protocol study.yaml names: an error finding when it cannot be loaded, else
    the study's findings against it (protocol.conformance: criteria, lots, doses, windows)."""
    spec = study.meta.protocol
    if not spec:
        return StudyProtocol(None, empty_findings())
    try:
        protocol = load_protocol(protocol_spec(spec, study_dir))
    except ProtocolError as exc:
        rule = _load_rule(exc)
        file = str(study_dir / "study.yaml")
        error = Finding(ERROR, "study", None, "protocol", spec, rule, file)
        return StudyProtocol(None, findings_frame([error]))
    return StudyProtocol(protocol, protocol_findings(study, protocol))


def _load_rule(exc: ProtocolError) -> str:
    issues = exc.issues or []
    if len(issues) == 1 and issues[0].line == 0 and "no such file" in issues[0].message:
        return f"{NOT_FOUND} (shipped: {', '.join(shipped_protocols())})"
    first = str(issues[0]) if issues else str(exc)
    more = f" (and {counted(len(issues) - 1, 'more problem')})" if len(issues) > 1 else ""
    return f"protocol cannot be loaded: {first}{more}"
