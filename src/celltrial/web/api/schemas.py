"""Request and response bodies of the eight StudyData tables, made from the one schema
(celltrial.data.schema). Every column is optional in a request: which values are required
is a rule of validate(), answered per field, not restated here."""

from __future__ import annotations

import datetime as dt

import polars as pl
from ninja import Schema
from pydantic import ConfigDict, create_model

from celltrial.data.schema import TABLES, Column
from celltrial.web.api.types import Finite, Int64, LocalTime, Naive, Text, Version


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


def _request_type(column: Column) -> object:
    dtype = column.dtype
    return {
        pl.Utf8: Text,
        pl.Float64: Finite,
        pl.Int64: Int64,
        pl.Boolean: bool,
        pl.Date: dt.date,
    }.get(dtype, Naive)


def _response_type(column: Column) -> object:
    dtype = column.dtype
    return {
        pl.Utf8: str,
        pl.Float64: float,
        pl.Int64: int,
        pl.Boolean: bool,
        pl.Date: dt.date,
    }.get(dtype, LocalTime)


def _entry_columns(table: str) -> list[Column]:
    """Measurements are sent as entered (value and unit); the registry stores them in the
    canonical unit with the entry kept, so the stored-only columns are not accepted."""
    columns = list(TABLES[table].columns)
    if table == "measurements":
        hidden = {"value_as_entered", "unit_as_entered"}
        columns = [c for c in columns if c.name not in hidden]
    return columns


def _title(table: str) -> str:
    return "".join(part.title() for part in table.split("_"))


def request_schema(table: str) -> type[Schema]:
    fields = {c.name: (_request_type(c) | None, None) for c in _entry_columns(table)}
    fields["reason"] = (Text | None, None)
    return create_model(f"{_title(table)}In", __base__=Strict, **fields)


def update_schema(table: str) -> type[Schema]:
    fields = {c.name: (_request_type(c) | None, None) for c in _entry_columns(table)}
    fields["version"] = (Version, ...)
    fields["reason"] = (Text, ...)
    return create_model(f"{_title(table)}Change", __base__=Strict, **fields)


def response_schema(table: str) -> type[Schema]:
    fields = {c.name: (_response_type(c) | None, None) for c in TABLES[table].columns}
    fields.update(
        id=(int, ...), version=(int, ...), deleted=(bool, ...), deleted_reason=(str | None, None)
    )
    return create_model(f"{_title(table)}Out", __base__=Schema, **fields)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    return create_model(name, __base__=Schema, count=(int, ...), items=(list[item], ...))
