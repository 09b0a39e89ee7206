"""Data queries: monitors (and investigators, admins) open them on a record, the site
answers, a monitor or admin closes them (LibreClinica: only a monitor closes)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.forms.models import model_to_dict

from celltrial.registry.models import DataQuery, Membership
from celltrial.registry.models.audit import CREATE, UPDATE
from celltrial.registry.models.queries import ANSWERED, CLOSED
from celltrial.registry.models.study import ADMIN, COORDINATOR, INVESTIGATOR, MONITOR
from celltrial.registry.services.access import check_participant, require_role, visible_rows
from celltrial.registry.services.audit import audit_entry
from celltrial.registry.services.errors import Conflict, NotFound, Problem, Refused

OPENERS = (ADMIN, INVESTIGATOR, MONITOR)
ANSWERERS = (ADMIN, INVESTIGATOR, COORDINATOR)
CLOSERS = (ADMIN, MONITOR)
FIELDS = ("participant_id", "table", "record_id", "field", "text", "answer", "status")


def open_query(actor: AbstractBaseUser, member: Membership, values: dict) -> DataQuery:
    require_role(member, OPENERS, "open a data query")
    check_participant(member, values["participant_id"])
    table, record = values.get("table"), values.get("record_id")
    if record is not None:
        rows = visible_rows(member, table).filter(
            pk=record, participant_id=values["participant_id"]
        )
        if not rows.exists():
            raise NotFound(f"no {table} record {record} of participant {values['participant_id']}")
    with transaction.atomic():
        query = DataQuery.objects.create(study=member.study, opened_by=actor, **values)
        audit_entry(
            member.study,
            "data_queries",
            query.pk,
            CREATE,
            1,
            actor,
            None,
            None,
            model_to_dict(query, fields=FIELDS),
            query.participant_id,
        ).save()
    return query


def move_query(
    actor: AbstractBaseUser,
    member: Membership,
    query: DataQuery,
    version: int,
    status: str,
    answer: str | None,
) -> DataQuery:
    """Answer (site) or close (monitor) a query; a closed query stays closed."""
    require_role(member, ANSWERERS if status == ANSWERED else CLOSERS, f"mark a query {status}")
    if query.status == CLOSED:
        raise Refused([Problem("status", "the query is closed", CLOSED)])
    if status == ANSWERED and not (answer or "").strip():
        raise Refused([Problem("answer", "an answer is required")])
    with transaction.atomic():
        current = DataQuery.objects.select_for_update().get(pk=query.pk)
        if current.version != version:
            raise Conflict(current.version, {"status": current.status, "answer": current.answer})
        before = model_to_dict(current, fields=FIELDS)
        current.status = status
        if answer:
            current.answer = answer
        current.version += 1
        current.save()
        audit_entry(
            member.study,
            "data_queries",
            current.pk,
            UPDATE,
            current.version,
            actor,
            answer,
            before,
            model_to_dict(current, fields=FIELDS),
            current.participant_id,
        ).save()
    return current


def visible_query(member: Membership, query_id: int) -> DataQuery:
    query = DataQuery.objects.filter(pk=query_id, study=member.study).first()
    if query is None:
        raise NotFound(f"no data query {query_id}")
    check_participant(member, query.participant_id)
    return query
