"""Writing the audit trail: one entry per change, with who, when, before, after, why."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from celltrial.registry.models import AuditEntry, Membership, Study
from celltrial.registry.models.study import ADMIN, READERS
from celltrial.registry.services.access import require_role, visible_participants
from celltrial.registry.services.frames import jsonable

MEMBERSHIPS = "memberships"  # who is a member of a study: its table in the audit trail
IMPORT_USER = "celltrial registry import"  # the actor of rows that came from a folder
CSV_COLUMNS = (
    "id",
    "at",
    "username",
    "action",
    "table",
    "record_id",
    "participant_id",
    "version",
    "reason",
    "before",
    "after",
)


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


def visible_audit(
    member: Membership,
    table: str | None = None,
    record_id: int | None = None,
    participant_id: str | None = None,
    username: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet:
    """The audit entries a member may read (the readers; another site's participants are
    absent), filtered; `since` and `until` are days, both included."""
    require_role(member, READERS, "read the audit trail")
    rows = AuditEntry.objects.filter(study=member.study)
    if member.role != ADMIN:  # as site_ids(): another site's participants are not shown
        seen = visible_participants(member).values("participant_id")
        rows = rows.filter(participant_id__in=seen) | rows.filter(participant_id__isnull=True)
    if member.role != ADMIN:  # who is a member is for admins (GET .../members is too)
        rows = rows.exclude(table=MEMBERSHIPS)
    filters = {
        "table": table,
        "record_id": record_id,
        "participant_id": participant_id,
        "username": username,
        "at__gte": None if since is None else dt.datetime.combine(since, dt.time.min),
        "at__lt": None
        if until is None
        else dt.datetime.combine(until, dt.time.min) + dt.timedelta(days=1),
    }
    return rows.filter(**{k: v for k, v in filters.items() if v is not None})


def audit_csv(rows: QuerySet) -> str:
    """The entries as CSV (CSV_COLUMNS; before and after as JSON), oldest first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in rows.order_by("id").iterator():  # streamed from the database
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                e.username,
                e.action,
                e.table,
                e.record_id,
                e.participant_id or "",
                e.version,
                e.reason or "",
                json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
                json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
            ]
        )
    return out.getvalue()


def changes(entry: AuditEntry) -> list[tuple[str, object, object]]:
    """(field, before, after) of each field an entry changed; every field of a creation or
    a deletion."""
    before, after = entry.before or {}, entry.after or {}
    if not before or not after:
        return [(k, before.get(k), after.get(k)) for k in (after or before)]
    return [(k, before.get(k), after[k]) for k in changed_fields(before, after)]
