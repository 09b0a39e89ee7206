"""The models hold the StudyData schema, column for column, and the committed migrations
hold the models."""

from __future__ import annotations

import io

import polars as pl
import pytest
from django.core.management import call_command
from django.db import models

from celltrial.data.schema import TABLES
from celltrial.registry.models import CLINICAL_MODELS

# the Django field class each Polars type is stored in (written out here, not imported
# from models/fields.py, so a change on either side is caught)
EXPECTED = {
    pl.Utf8: models.TextField,
    pl.Float64: models.FloatField,
    pl.Int64: models.BigIntegerField,
    pl.Boolean: models.BooleanField,
    pl.Date: models.DateField,
    pl.Datetime: models.DateTimeField,
}
REGISTRY_FIELDS = {
    "id",
    "study",
    "version",
    "deleted",
    "deleted_reason",
    "created_at",
    "updated_at",
}


@pytest.mark.parametrize("table", list(TABLES))
def test_model_fields_are_the_schema_columns(table):
    model = CLINICAL_MODELS[table]
    fields = {f.name: f for f in model._meta.get_fields()}
    schema = TABLES[table]
    assert set(fields) - REGISTRY_FIELDS == {c.name for c in schema.columns}
    for column in schema.columns:
        field = fields[column.name]
        assert type(field) is EXPECTED[column.dtype.base_type()], column.name
        assert field.null  # required values are validate()'s rule, not the database's


def test_a_key_is_unique_among_live_rows():
    for table, model in CLINICAL_MODELS.items():
        (constraint,) = model._meta.constraints
        assert constraint.fields == ("study", *TABLES[table].key)


@pytest.mark.django_db
def test_migrations_are_committed():
    out = io.StringIO()
    call_command("makemigrations", "registry", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
