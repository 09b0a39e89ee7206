"""A study folder stored as a registry study, in one transaction. The caller validates it
first with the rules of `celltrial validate`; a study with errors is never stored."""

from __future__ import annotations

import datetime as dt
import secrets

import polars as pl
from django.db import transaction

from celltrial.data import StudyData
from celltrial.data.schema import TABLES
from celltrial.registry.models import CLINICAL_MODELS, AuditEntry, Consent, Site, Study
from celltrial.registry.models.audit import CREATE
from celltrial.registry.models.consent import WITHDRAW_ALL
from celltrial.registry.services.audit import IMPORT_USER
from celltrial.registry.services.errors import Refused
from celltrial.registry.services.studies import taken_problems

BATCH = 2000  # rows per INSERT, under SQLite's 32766 bound variables for the widest table
IMPORTED_CONSENT = "recorded before import"  # consent taken outside the registry
IMPORT_REASON = "imported from a study folder"


def store_study(study: StudyData, protocol_yaml: str | None = None) -> Study:
    """Create the study, its sites, every row, a consent per participant (signed on
    enrolment, withdrawn on the withdrawal date) and an audit entry per row."""
    taken = taken_problems(study.meta.study_id)
    if taken:
        raise Refused(taken)
    now = dt.datetime.now()
    with transaction.atomic():
        stored = Study.objects.create(
            study_id=study.meta.study_id,
            title=study.meta.title,
            protocol=study.meta.protocol,
            protocol_yaml=protocol_yaml,
            format_version=study.meta.format_version,
            simulated=study.meta.simulated,
            simulator=study.meta.simulator,
            deid_secret=secrets.token_hex(32),
        )
        sites = study.participants["site_id"].drop_nulls().unique().sort().to_list()
        Site.objects.bulk_create([Site(study=stored, site_id=s) for s in sites])
        for table, frame in study.tables().items():
            _store_table(stored, table, frame, now)
        _store_consents(stored, study.participants)
    return stored


def _store_table(study: Study, table: str, frame: pl.DataFrame, now: dt.datetime) -> None:
    model = CLINICAL_MODELS[table]
    names = [c.name for c in TABLES[table].columns]
    rows = frame.select(names).rows()
    for start in range(0, len(rows), BATCH):  # batches of rows, one INSERT each
        chunk = rows[start : start + BATCH]
        objs = model.objects.bulk_create(
            [model(study=study, **dict(zip(names, r, strict=True))) for r in chunk]
        )
        after = frame.slice(start, len(chunk)).select(names)
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    study=study,
                    table=table,
                    record_id=obj.pk,
                    participant_id=None if table == "lots" else values.get("participant_id"),
                    action=CREATE,
                    version=1,
                    username=IMPORT_USER,
                    at=now,
                    reason=IMPORT_REASON,
                    after=values,
                )
                for obj, values in zip(objs, _json_rows(after), strict=True)
            ]
        )


def _json_rows(frame: pl.DataFrame) -> list[dict]:
    """Rows with dates and times as ISO text (the audit's JSON), converted per column."""
    temporal = [c for c, t in frame.schema.items() if t.is_temporal()]
    return frame.with_columns(
        pl.col(c).dt.to_string("%Y-%m-%dT%H:%M:%S")
        if frame.schema[c] == pl.Datetime("us")
        else pl.col(c).dt.to_string("%Y-%m-%d")
        for c in temporal
    ).to_dicts()


def _store_consents(study: Study, participants: pl.DataFrame) -> None:
    rows = participants.select("participant_id", "enrollment_date", "withdrawal_date").rows()
    Consent.objects.bulk_create(
        [
            Consent(
                study=study,
                participant_id=pid,
                form_version=IMPORTED_CONSENT,
                date_signed=enrolled,
                signed_by=IMPORTED_CONSENT,
                withdrawal_date=withdrawn,
                withdrawal_scope=WITHDRAW_ALL if withdrawn else None,
            )
            for pid, enrolled, withdrawn in rows
        ]
    )
