"""A change checked by the same rules as `celltrial validate`: the participant's rows
(and every lot) as StudyData with the change in place, validated by celltrial.data."""

from __future__ import annotations

import polars as pl

from celltrial.data import StudyData, validate
from celltrial.data.canonical import to_canonical
from celltrial.data.findings import ERROR
from celltrial.data.schema import TABLES
from celltrial.registry.services.errors import Problem, Refused

SENT_AS = {"value_as_entered": "value", "unit_as_entered": "unit"}  # as_entered(), reversed


def row_frame(table: str, row: dict) -> pl.DataFrame:
    schema = TABLES[table].polars_schema
    frame = pl.DataFrame([{c: row.get(c) for c in schema}], schema=schema)
    # the one converter: value and unit in canonical units from the entry (DESIGN.md)
    return to_canonical(frame) if table == "measurements" else frame


def with_row(study: StudyData, table: str, row: pl.DataFrame) -> StudyData:
    """The study with `row` appended last to `table`."""
    return study.with_table(table, pl.concat([getattr(study, table), row], how="vertical"))


def refuse_errors(study: StudyData, table: str, row_number: int) -> None:
    """Refuse (nothing stored) when validate() finds an error in the changed row: its
    1-based row in `table`, or any table-wide error of it."""
    found = validate(study, [table]).frame.filter(
        (pl.col("severity") == ERROR)
        & (pl.col("table") == table)
        & (pl.col("row").is_null() | (pl.col("row") == row_number))
    )
    # a measurement's problems name the fields it was sent with (value, unit), not the
    # columns as_entered() keeps them in
    sent = SENT_AS if table == "measurements" else {}
    if found.height:
        raise Refused(
            [
                Problem(sent.get(r["column"], r["column"]), r["rule"], r["value"])
                for r in found.select("column", "rule", "value").iter_rows(named=True)
            ]
        )


def as_entered(changes: dict, before: dict | None = None) -> dict:
    """A measurement sent as entered (value, unit): kept as value_as_entered and
    unit_as_entered, from which the converter computes the stored value and unit."""
    if "value" not in changes and "unit" not in changes:
        return changes
    before = before or {}
    value = changes.get("value", before.get("value_as_entered"))
    unit = changes.get("unit", before.get("unit_as_entered"))
    out = {k: v for k, v in changes.items() if k not in ("value", "unit")}
    out["value_as_entered"] = None if value is None else str(value)
    out["unit_as_entered"] = unit
    out["value"] = out["unit"] = None
    return out
