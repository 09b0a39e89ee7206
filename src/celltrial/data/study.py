"""StudyData: one study as eight Polars frames plus its metadata."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import polars as pl

from celltrial.data.findings import empty_findings
from celltrial.data.schema import TABLES, empty_frame

FORMAT_VERSION = 1


@dataclass(frozen=True)
class StudyMeta:
    study_id: str
    protocol: str | None = None  # a shipped protocol name or a path
    format_version: int = FORMAT_VERSION
    title: str | None = None
    # a study made by CellTrial's simulator says so (study.yaml `simulated: true` and
    # `simulator: {preset: NAME, seed: N}`); None for a real study, so neither key is written
    simulated: bool | None = None
    simulator: dict[str, object] | None = None


@dataclass(frozen=True)
class StudyData:
    meta: StudyMeta
    participants: pl.DataFrame = field(default_factory=lambda: empty_frame("participants"))
    screening: pl.DataFrame = field(default_factory=lambda: empty_frame("screening"))
    lots: pl.DataFrame = field(default_factory=lambda: empty_frame("lots"))
    infusions: pl.DataFrame = field(default_factory=lambda: empty_frame("infusions"))
    visits: pl.DataFrame = field(default_factory=lambda: empty_frame("visits"))
    measurements: pl.DataFrame = field(default_factory=lambda: empty_frame("measurements"))
    medications: pl.DataFrame = field(default_factory=lambda: empty_frame("medications"))
    adverse_events: pl.DataFrame = field(default_factory=lambda: empty_frame("adverse_events"))
    # What reading the files found (cells that did not fit their type, missing columns...),
    # a findings frame (celltrial.data.findings.FINDING_SCHEMA) that validate() reports.
    load_findings: pl.DataFrame = field(default_factory=empty_findings, repr=False)
    # table name -> the file it was read from, so findings can name the file.
    source_files: dict[str, str] = field(default_factory=dict, repr=False)
    # table name -> the file's 1-based data row of each frame row, for tables read with
    # rows skipped (every cell empty); other tables: frame row i is file row i + 1.
    file_rows: dict[str, pl.Series] = field(default_factory=dict, repr=False)
    # table name -> {schema column: the file column it was read from} where they differ
    # (measurements: value/unit read as the entry), so findings name the user's column.
    file_columns: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def tables(self) -> dict[str, pl.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in TABLES}

    def with_table(self, name: str, frame: pl.DataFrame) -> StudyData:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}")
        # the new frame's rows and columns are no longer those of the file
        rows = {t: r for t, r in self.file_rows.items() if t != name}
        columns = {t: c for t, c in self.file_columns.items() if t != name}
        return replace(self, **{name: frame}, file_rows=rows, file_columns=columns)
