"""A REDCap project as read: dictionary, records, the event/instrument designations of a
longitudinal project and its missing-data codes, whether from CSV files or the project XML."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from celltrial.data.csv_table import read_csv_table
from celltrial.data.findings import ERROR, concat_findings, finding_rows
from celltrial.data.read_error import StudyReadError
from celltrial.data.redcap.dictionary import Dictionary, read_dictionary
from celltrial.data.redcap.missing_codes import REDCAP_MISSING_CODES
from celltrial.data.redcap.records import MAX_BYTES, Records, read_records

DESIGNATION_COLUMNS = ("arm_num", "unique_event_name", "form")


@dataclass(frozen=True)
class Project:
    dictionary: Dictionary
    records: Records
    # (arm_num, unique_event_name, form); empty for a classic (not longitudinal) project
    designations: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=dict.fromkeys(DESIGNATION_COLUMNS, pl.Utf8))
    )
    missing_codes: dict[str, str] = field(default_factory=lambda: dict(REDCAP_MISSING_CODES))

    @property
    def findings(self) -> pl.DataFrame:
        return concat_findings([self.dictionary.findings, self.records.findings])

    @property
    def files(self) -> list[str]:
        return [self.dictionary.file, self.records.file]


def read_csv_project(
    dictionary: str | Path,
    records: str | Path,
    events: str | Path | None = None,
    max_bytes: int = MAX_BYTES,
) -> Project:
    """The project from REDCap's CSV files: data dictionary, record export and, for a
    longitudinal project, the instrument designations (event-form mapping)."""
    d = read_dictionary(dictionary)
    r = read_records(records, d, max_bytes)
    if events is None:
        return Project(d, r)
    designations, found = read_designations(Path(events), d)
    r = Records(r.frame, r.file, concat_findings([r.findings, found]), r.record_id)
    return Project(d, r, designations)


def read_designations(file: Path, dictionary: Dictionary) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The instrument designation CSV (arm_num, unique_event_name, form)."""
    if not file.is_file():
        raise StudyReadError(f"{file}: no such file (expected REDCap's instrument designations)")
    table = read_csv_table(file, "designations", list(DESIGNATION_COLUMNS), [])
    frame = table.frame.rename({c: c.strip() for c in table.frame.columns})
    absent = [c for c in DESIGNATION_COLUMNS if c not in frame.columns]
    if absent:
        raise StudyReadError(
            f"{file}: not REDCap's instrument designations (no column {', '.join(absent)}; "
            "expected arm_num,unique_event_name,form)"
        )
    frame = frame.select(pl.col(c).str.strip_chars() for c in DESIGNATION_COLUMNS)
    unknown = finding_rows(
        frame,
        ~pl.col("form").is_in(dictionary.forms),
        severity=ERROR,
        table="designations",
        column="form",
        value=pl.col("form"),
        rule=f"not a form of the data dictionary {Path(dictionary.file).name}",
        file=str(file),
    )
    return frame, concat_findings([table.findings, unknown])
