"""Django fields for the columns of a StudyData table, from the one schema
(celltrial.data.schema): the models and the files can never disagree."""

from __future__ import annotations

import polars as pl
from django.db import models

from celltrial.data.schema import Column, TableSchema


def _field(column: Column, key: bool) -> models.Field:
    options = {"null": True, "blank": True, "help_text": column.description}
    if key:
        options["db_index"] = True
    dtype = column.dtype
    if dtype == pl.Utf8:
        return models.TextField(**options)
    if dtype == pl.Float64:
        return models.FloatField(**options)
    if dtype == pl.Int64:
        return models.BigIntegerField(**options)
    if dtype == pl.Boolean:
        return models.BooleanField(**options)
    if dtype == pl.Date:
        return models.DateField(**options)
    if dtype == pl.Datetime("us"):
        return models.DateTimeField(**options)
    raise TypeError(f"no Django field for {column.name}: {dtype}")


def schema_fields(table: TableSchema) -> dict[str, models.Field]:
    """One nullable field per schema column (required values are checked by validate(),
    the one rule set, not by the database)."""
    return {c.name: _field(c, c.name in table.key) for c in table.columns}
