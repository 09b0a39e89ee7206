"""The REDCap record export CSV ("Export Data" or the API's record export): one row per
record, event and repeat instance, raw codes or labels, headers as field names or labels.

Read as text with the project's lenient CSV reader (BOM, Latin-1 bytes, semicolons, short
and unterminated rows are its findings); this module adds what is REDCap's: the record id,
the REDCap columns, duplicate rows and columns the dictionary does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from celltrial.data.csv_table import read_csv_table
from celltrial.data.findings import (
    ERROR,
    WARNING,
    Finding,
    concat_findings,
    finding_rows,
    findings_frame,
)
from celltrial.data.read_error import StudyReadError
from celltrial.data.redcap.dictionary import Dictionary, checkbox_column

EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
DAG = "redcap_data_access_group"
REDCAP_COLUMNS = (EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE, DAG, "redcap_survey_identifier")
# headers of REDCap's "CSV (labels)" export for its own columns (REDCap 14)
LABEL_HEADERS = {
    "Event Name": EVENT,
    "Repeat Instrument": REPEAT_INSTRUMENT,
    "Repeat Instance": REPEAT_INSTANCE,
    "Data Access Group": DAG,
    "Survey Identifier": "redcap_survey_identifier",
}
ROW = "_row"  # the file's 1-based data row of each record row
RECORD = "_record"  # the record id under one name, whatever the project calls it
# 1 GiB: larger exports are refused (split them by event or record batch in REDCap) so a
# 2 GB file is one clear message, not an out-of-memory crash on a clinic laptop
MAX_BYTES = 1 << 30
_OTHER_SEPARATORS = {"\t": "tabs", "|": "pipes (|)", "^": "carets (^)"}


@dataclass(frozen=True)
class Records:
    frame: pl.DataFrame  # text cells stripped, empty as null; ROW; REDCap columns present
    file: str
    findings: pl.DataFrame
    record_id: str


def read_records(path: str | Path, dictionary: Dictionary, max_bytes: int = MAX_BYTES) -> Records:
    """Read a record export; StudyReadError when it cannot be one of this dictionary."""
    file = Path(path)
    if not file.is_file():
        raise StudyReadError(f"{file}: no such file (expected a REDCap record export CSV)")
    size = file.stat().st_size
    if size > max_bytes:
        raise StudyReadError(
            f"{file}: {size / 2**20:,.0f} MiB is more than the {max_bytes / 2**20:,.0f} MiB "
            "read at once; export the records in parts (by event or record batches)"
        )
    _refuse_other_separators(file)
    expected = dictionary.record_columns()
    table = read_csv_table(file, "records", [dictionary.record_id, *expected], [])
    frame = table.frame.rename({c: c.strip() for c in table.frame.columns})
    frame, label_note = _names_from_labels(frame, dictionary, str(file))
    rows = table.rows if table.rows is not None else pl.int_range(1, frame.height + 1, eager=True)
    found = concat_findings([table.findings, label_note])
    return records_from_frame(frame, rows, str(file), dictionary, found)


def records_from_frame(
    frame: pl.DataFrame, rows: pl.Series, file: str, dictionary: Dictionary, found: pl.DataFrame
) -> Records:
    """Records from text columns named as in an export, `rows` the file row of each."""
    rid = dictionary.record_id
    if rid not in frame.columns:
        raise StudyReadError(
            f"{file}: no column {rid!r}, the record id (first field of the dictionary "
            f"{Path(dictionary.file).name}); is this the export of that project?"
        )
    expected = dictionary.record_columns()
    frame = _stripped(frame).with_columns(pl.Series(ROW, rows, dtype=pl.Int64))
    for name in REDCAP_COLUMNS:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(name))
    checks = [_unknown_columns(frame, expected, rid, file), _row_checks(frame, rid, file)]
    return Records(frame, file, concat_findings([found, *checks]), rid)


def _stripped(frame: pl.DataFrame) -> pl.DataFrame:
    """Cells without surrounding blanks, blank ones null; only the columns that have such
    cells are rewritten (a regex test is half the cost of stripping every column)."""
    padded = frame.select(pl.col(c).str.contains(r"^\s|\s$").any() for c in frame.columns)
    columns = [c for c, hit in zip(frame.columns, padded.row(0), strict=True) if hit]
    stripped = {c: pl.col(c).str.strip_chars() for c in columns}
    return frame.with_columns(
        pl.when(cell.str.len_bytes() > 0).then(cell).alias(c) for c, cell in stripped.items()
    )


def _refuse_other_separators(file: Path) -> None:
    with file.open("rb") as fh:
        first = fh.readline(65536).decode("utf-8", "replace")
    if "," in first or ";" in first:
        return
    for sep, name in _OTHER_SEPARATORS.items():
        if sep in first:
            raise StudyReadError(
                f"{file}: the header is separated by {name}; export the records from REDCap "
                "as CSV with commas (Export Data > CSV, delimiter: comma)"
            )


def _names_from_labels(
    frame: pl.DataFrame, dictionary: Dictionary, file: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A 'CSV (labels)' export names its columns by field label: rename them to field
    names (a checkbox choice is 'Label (choice=Choice label)'; each form's status column is
    'Complete?', taken in form order)."""
    if dictionary.record_id in frame.columns:
        return frame, findings_frame([])
    fields = dictionary.fields.filter(pl.col("field_type") != "descriptive")
    names: dict[str, str] = dict(LABEL_HEADERS)
    for name, label in fields.select("field_name", "field_label").iter_rows():  # fields
        if label:
            names.setdefault(label, name)
    boxes = dictionary.choices().join(fields.select("field_name", "field_label"), on="field_name")
    for name, code, choice, label in boxes.iter_rows():  # choices of checkbox fields
        names.setdefault(f"{label} (choice={choice})", checkbox_column(name, code))
    complete = iter(f"{form}_complete" for form in dictionary.forms)
    renamed = {}
    for column in frame.columns:  # the header's columns
        if column.split("_duplicated_")[0] == "Complete?":
            renamed[column] = next(complete, column)
        elif column in names:
            renamed[column] = names[column]
    if dictionary.record_id not in renamed.values():
        return frame, findings_frame([])
    note = Finding(
        WARNING,
        "records",
        None,
        None,
        None,
        "the header names fields by their labels (a 'CSV (labels)' export); columns were "
        "matched to field names by label",
        file,
    )
    return frame.rename(renamed), findings_frame([note])


def _unknown_columns(frame: pl.DataFrame, expected: list[str], rid: str, file: str) -> pl.DataFrame:
    known = {rid, ROW, *expected, *REDCAP_COLUMNS}
    unknown = [c for c in frame.columns if c not in known and not c.endswith("_timestamp")]
    rule = "column not in the data dictionary (was the dictionary exported from this project?)"
    return findings_frame([Finding(WARNING, "records", None, c, None, rule, file) for c in unknown])


def where(record: str) -> pl.Expr:
    """'record 7, event d0_arm_1, adverse_events instance 2' (or 'event d28_arm_1 instance
    2' for a repeating event) for each row: the REDCap address of a cell."""
    return pl.concat_str(
        pl.lit("record "),
        pl.col(record),
        pl.concat_str(pl.lit(", event "), pl.col(EVENT)),
        # a repeating instrument's instance names the form; a repeating event's does not
        pl.concat_str(pl.lit(", "), pl.col(REPEAT_INSTRUMENT)),
        pl.concat_str(pl.lit(" instance "), pl.col(REPEAT_INSTANCE)),
        ignore_nulls=True,
    )


def _row_checks(frame: pl.DataFrame, rid: str, file: str) -> pl.DataFrame:
    key = [rid, EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    # the first row of each key, computed before finding_rows filters the hits
    frame = frame.select(*key, ROW, pl.col(ROW).min().over(key).alias("_first_row"))

    def hits(mask: pl.Expr, column: str, value: pl.Expr, rule: str | pl.Expr) -> pl.DataFrame:
        return finding_rows(
            frame,
            mask,
            severity=ERROR,
            table="records",
            column=column,
            value=value,
            rule=rule,
            file=file,
            row=pl.col(ROW),
        )

    first_row = pl.col("_first_row")
    instance = pl.col(REPEAT_INSTANCE)
    return concat_findings(
        [
            hits(pl.col(rid).is_null(), rid, pl.lit(None, pl.Utf8), "record id missing"),
            hits(
                pl.col(rid).is_not_null() & (pl.col(ROW) != first_row),
                rid,
                pl.col(rid),
                pl.format(
                    "{}: the same record, event and instance as row {} (duplicate record)",
                    where(rid),
                    first_row,
                ),
            ),
            hits(
                instance.is_not_null()
                & (instance.cast(pl.Int64, strict=False) < 1).fill_null(True),
                REPEAT_INSTANCE,
                instance,
                pl.format("{}: not a repeat instance (a whole number from 1)", where(rid)),
            ),
        ]
    )


# 'record 7, event d0_arm_1, instance 2': built for findings only, never for every row
WHERE = where(RECORD)
