"""Study rows between the database and Polars frames (StudyData), by the one schema."""

from __future__ import annotations

import polars as pl
from django.db.models import QuerySet

from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData, StudyMeta
from celltrial.registry.models import CLINICAL_MODELS, Study

PARTICIPANT_TABLES = tuple(t for t in TABLES if t != "lots")  # rows that name a participant


def live_rows(study: Study, table: str) -> QuerySet:
    """The rows of a table that are not deleted."""
    return CLINICAL_MODELS[table].objects.filter(study=study, deleted=False)


def frame_of(rows: QuerySet, table: str) -> pl.DataFrame:
    """Rows of one table as a frame in the schema's columns and types, in key order."""
    schema = TABLES[table]
    names = [c.name for c in schema.columns]
    values = list(rows.order_by("id").values_list(*names))
    return pl.DataFrame(values, schema=schema.polars_schema, orient="row")


def study_data(
    study: Study,
    participant_ids: list[str] | None = None,
    without: tuple[str, int] | None = None,
) -> StudyData:
    """The study (or only some participants, with every lot) as StudyData; `without`
    (table, record id) leaves out one row, the one a change replaces."""
    tables = {}
    for table in TABLES:
        rows = live_rows(study, table)
        if participant_ids is not None and table in PARTICIPANT_TABLES:
            rows = rows.filter(participant_id__in=participant_ids)
        if without is not None and without[0] == table:
            rows = rows.exclude(pk=without[1])
        tables[table] = frame_of(rows, table)
    meta = StudyMeta(
        study.study_id,
        study.protocol,
        study.format_version,
        study.title,
        simulated=study.simulated,
        simulator=study.simulator,
    )
    return StudyData(meta, **tables)


def jsonable(row: dict) -> dict:
    """A row's values as JSON values (dates and times as ISO 8601 text)."""
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def schema_values(obj: object, table: str) -> dict:
    return {c.name: getattr(obj, c.name) for c in TABLES[table].columns}
