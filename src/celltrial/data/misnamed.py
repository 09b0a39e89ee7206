"""Files in a study folder that are not one of its tables: a misnamed table
(`Measurements.csv`, `ae.csv`) or a spreadsheet (`adverse_events.xlsx`) would otherwise be
read as an empty table, and a report would then state there were no adverse events.

A file named for a table whose own file is missing is an error (that table is read as
empty); one beside the table's own file is a warning (not read); any other file is a
warning. Hidden files and office lock files (`.~lock.*#`, `~$*`) and folders are ignored.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Collection
from pathlib import Path

import polars as pl

from celltrial.data.findings import ERROR, STUDY, WARNING, Finding, findings_frame
from celltrial.data.schema import TABLES

READ = (".csv", ".parquet")  # the formats a study folder holds (folder.FORMATS)
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")
TEXT = (".tsv", ".txt", ".tab")
# names people give tables, beyond case, plurals and close spellings (difflib below)
ALIASES = {
    "ae": "adverse_events",
    "aes": "adverse_events",
    "adverse": "adverse_events",
    "sae": "adverse_events",
    "saes": "adverse_events",
    "labs": "measurements",
    "lab": "measurements",
    "lab_values": "measurements",
    "meds": "medications",
    "concomitant_medications": "medications",
    "cm": "medications",
    "patients": "participants",
    "subjects": "participants",
    "demographics": "participants",
    "eligibility": "screening",
    "doses": "infusions",
    "products": "lots",
    "batches": "lots",
}
CLOSE = 0.8  # difflib ratio: 'measurments', 'infussions' and 'adverse_event' match; 'notes' not
SAVE_AS_CSV = "in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'"


def meant_table(stem: str) -> str | None:
    """The table a file stem most likely names, or None."""
    key = re.sub(r"[\s.\-]+", "_", stem.strip().lower()).strip("_")
    for candidate in (key, f"{key}s", key.removesuffix("s"), ALIASES.get(key)):
        if candidate in TABLES:
            return candidate
    close = difflib.get_close_matches(key, list(TABLES), n=1, cutoff=CLOSE)
    return close[0] if close else None


def unknown_files(
    folder: Path, known: Collection[str], sources: dict[str, str], protocol: str | None
) -> pl.DataFrame:
    """A finding for every file of `folder` that is not in `known` (study.yaml and the table
    file names), nor the protocol file study.yaml names; `sources` holds the table files read."""
    found = []
    for entry in sorted(folder.iterdir()):  # a folder holds a handful of files
        name = entry.name
        if name in known or name == protocol or _ignored(entry):
            continue
        table = meant_table(entry.stem)
        if table is not None and _same_file(entry, sources.get(table)):
            continue  # a case-insensitive file system found it under the table's own name
        severity, rule = _rule(entry, table, sources)
        found.append(Finding(severity, STUDY, None, None, name, rule, str(entry)))
    return findings_frame(found)


def _ignored(entry: Path) -> bool:
    return entry.is_dir() or entry.name.startswith((".", "~$")) or not entry.is_file()


def _same_file(entry: Path, source: str | None) -> bool:
    return source is not None and os.path.samefile(entry, source)


def _rule(entry: Path, table: str | None, sources: dict[str, str]) -> tuple[str, str]:
    tables = ", ".join(f"{t}.csv" for t in TABLES)
    if table is None:
        return WARNING, f"not a study table, not read (tables: {tables}, or .parquet)"
    ext = entry.suffix.lower()
    target = f"{table}.csv"
    if table in sources:
        return WARNING, f"not read: the {table} table is read from {Path(sources[table]).name}"
    empty = f"until then the study has no {table} rows"
    if ext in SPREADSHEETS:
        how = f"CellTrial reads CSV or Parquet: save it as {target} ({SAVE_AS_CSV})"
        return ERROR, f"a spreadsheet for the {table} table, not read; {how}; {empty}"
    if ext in TEXT:
        return ERROR, f"not read: save the {table} table as {target} (comma-separated); {empty}"
    if ext in READ or ext == "":
        named = f"{table}{ext if ext in READ else '.csv'}"
        case = " (lower case)" if entry.name.lower() == named else ""
        return ERROR, f"not read: the {table} table must be named {named}{case}; {empty}"
    return ERROR, f"not read: looks like the {table} table; save it as {target}; {empty}"
