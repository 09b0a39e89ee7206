"""Writing the audit trail: one entry per change, with who, when, before, after, why."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser

from celltrial.registry.models import AuditEntry, Study
from celltrial.registry.services.frames import jsonable

IMPORT_USER = "celltrial registry import"  # the actor of rows that came from a folder


def audit_entry(
    study: Study,
    table: str,
    record_id: int,
    action: str,
    version: int,
    actor: AbstractBaseUser | None,
    reason: str | None,
    before: dict | None,
    after: dict | None,
    participant_id: str | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    return AuditEntry(
        study=study,
        table=table,
        record_id=record_id,
        participant_id=participant_id,
        action=action,
        version=version,
        user=actor,
        username=actor.get_username() if actor else IMPORT_USER,
        at=at or dt.datetime.now(),
        reason=reason,
        before=None if before is None else jsonable(before),
        after=None if after is None else jsonable(after),
    )


def changed_fields(before: dict, after: dict) -> list[str]:
    return [k for k in after if jsonable({k: before.get(k)}) != jsonable({k: after[k]})]
