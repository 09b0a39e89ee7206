"""Create, update and soft-delete one row of study data: access, consent, the shared
rules (validate, converter, windows, screening, dosing), optimistic locking and the audit
trail, in one transaction. Nothing is stored when any check refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from celltrial.data import StudyData
from celltrial.data.schema import TABLES
from celltrial.registry.models import CLINICAL_MODELS, AuditEntry, ClinicalRow, Membership, Study
from celltrial.registry.models.audit import CREATE, DELETE, UPDATE
from celltrial.registry.models.study import WRITERS
from celltrial.registry.services.access import (
    check_participant,
    check_site,
    require_role,
    visible_rows,
)
from celltrial.registry.services.alerts import raise_alerts  # registry pages (issue 12)
from celltrial.registry.services.audit import audit_entry, changed_fields
from celltrial.registry.services.checks import as_entered, refuse_errors, row_frame, with_row
from celltrial.registry.services.consent import consent_problem
from celltrial.registry.services.errors import Conflict, NotFound, Problem, Refused
from celltrial.registry.services.frames import schema_values, study_data
from celltrial.registry.services.infusions import completed_infusion, dose_problems
from celltrial.registry.services.protocols import study_protocol
from celltrial.registry.services.schedule import placed, planned_visits, visit_changes
from celltrial.registry.services.signatures import lock_problem  # registry pages (issue 12)

SCHEDULED = "visit scheduled or dated by protocol {}"


def create_row(
    actor: AbstractBaseUser, member: Membership, table: str, values: dict
) -> ClinicalRow:
    require_role(member, WRITERS, f"enter {table}")
    if table == "measurements":
        values = as_entered(values)
    row = {c.name: values.get(c.name) for c in TABLES[table].columns}
    _check_owner(member, table, row)
    study = member.study
    with _same_key_refused(table), transaction.atomic():
        row, visits = _prepared(study, table, row, None)
        obj = CLINICAL_MODELS[table].objects.create(study=study, **row)
        audit_entry(
            study,
            table,
            obj.pk,
            CREATE,
            1,
            actor,
            values.get("reason"),
            None,
            row,
            _owner(table, row),
        ).save()
        _save_visits(actor, study, visits)
        raise_alerts(obj)
    return obj


def update_row(
    actor: AbstractBaseUser,
    member: Membership,
    table: str,
    record_id: int,
    version: int,
    changes: dict,
    reason: str | None,
) -> ClinicalRow:
    require_role(member, WRITERS, f"change {table}")
    _require_reason(reason)
    model = CLINICAL_MODELS[table]
    if not visible_rows(member, table).filter(pk=record_id).exists():
        raise NotFound(f"no {table} record {record_id}")
    study = member.study
    with _same_key_refused(table), transaction.atomic():
        current = model.objects.select_for_update().get(pk=record_id)
        _check_version(table, current, version)
        before = schema_values(current, table)
        if table == "measurements":
            changes = as_entered(changes, before)
        row = {**before, **{k: v for k, v in changes.items() if k in before}}
        _check_owner(member, table, row)
        row, visits = _prepared(study, table, row, record_id)
        stored = model.objects.filter(pk=record_id, version=version).update(
            **row, version=version + 1, updated_at=dt.datetime.now()
        )
        if stored == 0:  # changed between the read and the write
            _check_version(table, model.objects.get(pk=record_id), version)
        audit_entry(
            study,
            table,
            record_id,
            UPDATE,
            version + 1,
            actor,
            reason,
            before,
            row,
            _owner(table, row),
        ).save()
        _save_visits(actor, study, visits)
        changed = model.objects.get(pk=record_id)
        raise_alerts(changed)
    return changed


def delete_row(
    actor: AbstractBaseUser,
    member: Membership,
    table: str,
    record_id: int,
    version: int,
    reason: str | None,
) -> ClinicalRow:
    """Soft delete: the row is flagged with the reason and kept, never removed."""
    require_role(member, WRITERS, f"delete {table}")
    _require_reason(reason)
    model = CLINICAL_MODELS[table]
    if not visible_rows(member, table).filter(pk=record_id).exists():
        raise NotFound(f"no {table} record {record_id}")
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=record_id)
        _check_version(table, current, version)
        values = schema_values(current, table)
        model.objects.filter(pk=record_id, version=version).update(
            deleted=True, deleted_reason=reason, version=version + 1
        )
        audit_entry(
            member.study,
            table,
            record_id,
            DELETE,
            version + 1,
            actor,
            reason,
            {**values, "deleted": False},
            {**values, "deleted": True},
            _owner(table, values),
        ).save()
    return model.objects.get(pk=record_id)


@contextmanager
def _same_key_refused(table: str) -> Iterator[None]:
    """Two writers checking the same new key at once (PostgreSQL runs them side by side;
    SQLite's IMMEDIATE transactions queue them): the database's unique key refuses the
    second, answered like validate()'s duplicate-key rule."""
    try:
        yield
    except IntegrityError:
        key = ", ".join(TABLES[table].key)
        raise Refused(
            [Problem(None, f"duplicate key: a {table} row with the same {key} was just stored")]
        ) from None


def changed_since(table: str, record_id: int, version: int) -> list[str]:
    """Fields changed by the audited changes after `version`, in the order first changed."""
    fields: list[str] = []
    entries = AuditEntry.objects.filter(table=table, record_id=record_id, version__gt=version)
    for entry in entries.order_by("version"):  # one entry per later version of one record
        for name in changed_fields(entry.before or {}, entry.after or {}):
            if name not in fields:
                fields.append(name)
    return fields


def _check_version(table: str, current: ClinicalRow, version: int) -> None:
    if current.version != version:
        fields = changed_since(table, current.pk, version)
        raise Conflict(current.version, {f: getattr(current, f, None) for f in fields})


def _require_reason(reason: str | None) -> None:
    if not reason or not reason.strip():
        raise Refused(
            [Problem("reason", "a reason is required for any change after the first save")]
        )


def _owner(table: str, row: dict) -> str | None:
    return None if table == "lots" else row.get("participant_id")


def _check_owner(member: Membership, table: str, row: dict) -> None:
    """Another site's participant or site is answered as absent; consent is required
    for every table but the participant's own row and the study's lots."""
    if table == "participants":
        check_site(member, row.get("site_id"))
        return
    if table == "lots":
        return
    check_participant(member, row.get("participant_id"))
    problem = consent_problem(member.study, row["participant_id"], table)
    problem = problem or lock_problem(member.study, row["participant_id"])
    if problem:
        raise Refused([problem])


def _prepared(
    study: Study, table: str, row: dict, record_id: int | None
) -> tuple[dict, pl.DataFrame | None]:
    """The row as it will be stored (converted, dose computed, visit placed) and the visit
    rows to create or update; refused with the problems when a rule is broken."""
    owner = [] if table == "lots" else [row.get("participant_id")]
    _lock_participant(study, owner)
    without = None if record_id is None else (table, record_id)
    scoped = study_data(study, owner, without)
    protocol = study_protocol(study)
    if table == "infusions" and protocol is not None:
        row = completed_infusion(scoped, protocol, row)
    frame = row_frame(table, row)
    scoped = with_row(scoped, table, frame)
    visits = None
    if table in ("measurements", "infusions") and protocol is not None:
        assigned = placed(scoped, protocol)
        if table == "measurements":
            frame = frame.with_columns(pl.lit(assigned["visit_id"][-1], pl.Utf8).alias("visit_id"))
            scoped = with_row(scoped.with_table(table, getattr(scoped, table)[:-1]), table, frame)
        planned = planned_visits(scoped, assigned, protocol)
        visits = _visits_to_save(scoped, planned, frame, table)
        scoped = _with_visits(scoped, visits)
    refuse_errors(scoped, table, getattr(scoped, table).height)
    if table == "infusions" and protocol is not None:
        dose_problems(scoped, protocol, row["infusion_id"])
    if visits is not None:
        visits = visits.with_columns(pl.lit(protocol.id).alias("_protocol"))
    return frame.row(0, named=True), visits


def _lock_participant(study: Study, owner: list[str | None]) -> None:
    """Writes for one participant wait for each other (a PostgreSQL row lock, held to the end
    of the transaction): each plans the participant's visits from what is stored, and two
    plans made side by side would both create the same visit. SQLite's IMMEDIATE
    transactions already serialize every writer."""
    people = CLINICAL_MODELS["participants"].objects.select_for_update()
    list(people.filter(study=study, participant_id__in=owner).values_list("pk", flat=True))


def _visits_to_save(
    scoped: StudyData, planned: pl.DataFrame, frame: pl.DataFrame, table: str
) -> pl.DataFrame:
    """New visits, and for a measurement the change of its own visit: stored visits of
    other values are left as they were entered."""
    changes = visit_changes(scoped.visits, planned)
    if table != "measurements":
        return changes.filter("_new")
    own = frame["visit_id"][0]
    return changes.filter(pl.col("_new") | pl.col("visit_id").eq_missing(own))


def _with_visits(scoped: StudyData, visits: pl.DataFrame) -> StudyData:
    key = ["participant_id", "visit_id"]
    kept = scoped.visits.join(visits, on=key, how="anti")
    new = visits.select(scoped.visits.columns)
    return scoped.with_table("visits", pl.concat([kept, new], how="vertical_relaxed"))


def _save_visits(actor: AbstractBaseUser, study: Study, visits: pl.DataFrame | None) -> None:
    if visits is None or visits.height == 0:
        return
    model = CLINICAL_MODELS["visits"]
    columns = [c.name for c in TABLES["visits"].columns]
    for v in visits.iter_rows(named=True):  # the few visits one change schedules
        values = {c: v[c] for c in columns}
        reason = SCHEDULED.format(v["_protocol"])
        if v["_new"]:
            obj = model.objects.create(study=study, **values)
            entry = audit_entry(
                study,
                "visits",
                obj.pk,
                CREATE,
                1,
                actor,
                reason,
                None,
                values,
                values["participant_id"],
            )
        else:
            obj = model.objects.select_for_update().get(
                study=study,
                deleted=False,
                participant_id=v["participant_id"],
                visit_id=v["visit_id"],
            )
            before = schema_values(obj, "visits")
            model.objects.filter(pk=obj.pk).update(**values, version=obj.version + 1)
            entry = audit_entry(
                study,
                "visits",
                obj.pk,
                UPDATE,
                obj.version + 1,
                actor,
                reason,
                before,
                values,
                values["participant_id"],
            )
        entry.save()
