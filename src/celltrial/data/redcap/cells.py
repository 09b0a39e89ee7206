"""REDCap's cell values before they go into tables: missing-data codes read as missing (one
note per field and code), choice labels of a labelled export read back as codes (and a unit
field's codes as their unit labels), dates in the field's REDCap format as ISO text. Each
mapped field is one vectorized pass; a cell that fits nothing is a finding at its row."""

from __future__ import annotations

import polars as pl

from celltrial.data.findings import ERROR, WARNING, concat_findings, empty_findings, finding_rows
from celltrial.data.redcap.dates import display_format, is_date, is_datetime, iso_cells
from celltrial.data.redcap.dictionary import CHOICE_TYPES, FIXED_CHOICES
from celltrial.data.redcap.mapping import LocatedMapping
from celltrial.data.redcap.project import Project
from celltrial.data.redcap.records import ROW, WHERE


def clean_cells(
    records: pl.DataFrame, project: Project, located: LocatedMapping, mapped: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Missing-data codes to null (noted once per field and code), choice labels to codes
    (a labelled export), REDCap dates to ISO text; a cell that fits none is a finding."""
    codes = located.mapping.missing_codes or project.missing_codes
    file, d = project.records.file, project.dictionary
    present = [c for c in mapped if c in records.columns]
    found = [_missing_code_notes(records, present, codes, file)]
    records = records.with_columns(
        pl.when(~pl.col(c).is_in(list(codes))).then(pl.col(c)).alias(c) for c in present
    )
    choices = d.choices()
    kinds, validations = d.types(), d.validations()
    unit_fields = {a.unit_field for a in located.mapping.analytes if a.unit_field}
    for column in present:  # mapped fields, not records
        base = column.split("___")[0]
        kind = kinds.get(base)
        if column in unit_fields and kind in CHOICE_TYPES:
            pairs = choices.filter(pl.col("field_name") == column).select("label", "code")
            records, bad = _choice(records, column, dict(pairs.iter_rows()), file)
        elif column != base and kind == "checkbox":
            records, bad = _choice(records, column, {"1": "Checked", "0": "Unchecked"}, file)
        elif kind in CHOICE_TYPES or kind in FIXED_CHOICES:
            pairs = choices.filter(pl.col("field_name") == column)
            records, bad = _choice(
                records, column, dict(pairs.select("code", "label").iter_rows()), file
            )
        elif is_date(validations.get(column)) or is_datetime(validations.get(column)):
            records, bad = _date(records, column, validations[column], file)
        else:
            continue
        found.append(bad)
    return records, concat_findings(found)


def _missing_code_notes(
    records: pl.DataFrame, columns: list[str], codes: dict[str, str], file: str
) -> pl.DataFrame:
    if not columns or not codes:
        return empty_findings()
    codes_list = list(codes)
    long = pl.concat(
        records.filter(pl.col(c).is_in(codes_list)).select(
            pl.lit(c).alias("field"),
            pl.col(c).alias("code"),
            pl.col(ROW).alias("row"),
            WHERE.alias("where"),
        )
        for c in columns  # mapped fields
    )
    if long.height == 0:
        return empty_findings()
    groups = long.group_by("field", "code", maintain_order=True).agg(
        pl.len().alias("n"), pl.col("row").first(), pl.col("where").first()
    )
    label = pl.col("code").replace_strict(codes, default="")
    rule = pl.format(
        "REDCap missing-data code {} ({}) in {} cell(s), read as missing (first: {})",
        pl.col("code"),
        label,
        pl.col("n"),
        pl.col("where"),
    )
    return finding_rows(
        groups,
        pl.lit(True),
        severity=WARNING,
        table="records",
        column=pl.col("field"),
        value=pl.col("code"),
        rule=rule,
        file=file,
        row=pl.col("row"),
    )


def _choice(
    records: pl.DataFrame, column: str, labels: dict[str, str], file: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    codes = list(labels)
    by_label = {label: code for code, label in labels.items() if label not in labels}
    cell = pl.col(column)
    coded = (
        pl.when(cell.is_in(codes)).then(cell).otherwise(cell.replace_strict(by_label, default=None))
    )
    allowed = ", ".join(f"{c} = {lab}" for c, lab in list(labels.items())[:12])
    bad = finding_rows(
        records,
        cell.is_not_null() & coded.is_null(),
        severity=ERROR,
        table="records",
        column=column,
        value=cell,
        rule=pl.format("{}: not a choice of {} ({})", WHERE, pl.lit(column), pl.lit(allowed)),
        file=file,
        row=pl.col(ROW),
    )
    return records.with_columns(coded.alias(column)), bad


def _date(
    records: pl.DataFrame, column: str, validation: str, file: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    iso = iso_cells(records[column], validation)
    shown = display_format(validation)
    rule = pl.format(
        "{}: not a {} ({}, or YYYY-MM-DD as raw exports write it)",
        WHERE,
        pl.lit(validation),
        pl.lit(shown),
    )
    bad = finding_rows(
        records,
        pl.col(column).is_not_null() & pl.lit(iso).is_null(),
        severity=ERROR,
        table="records",
        column=column,
        value=pl.col(column),
        rule=rule,
        file=file,
        row=pl.col(ROW),
    )
    return records.with_columns(iso.alias(column)), bad
