"""Data queries: list, open, answer, close."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from celltrial.data.schema import TABLES
from celltrial.registry.models import DataQuery
from celltrial.registry.models.queries import ANSWERED, CLOSED
from celltrial.registry.models.study import READERS
from celltrial.registry.services.access import require_role, visible_participants
from celltrial.registry.services.data_queries import move_query, open_query, visible_query
from celltrial.web.api.context import checked_id, member_for, page
from celltrial.web.api.root import ERRORS, Error, api
from celltrial.web.api.schemas import Strict
from celltrial.web.api.types import ID_MAX, Key, LocalTime, Text, Version

router = Router(tags=["data queries"])


class QueryIn(Strict):
    participant_id: Key
    table: Literal[tuple(TABLES)]  # type: ignore[valid-type]
    record_id: Annotated[int, Field(ge=1, le=ID_MAX)] | None = None
    field: Text | None = None
    text: Annotated[str, Field(min_length=1, max_length=10_000, pattern=r"^[^\x00]*$")]


class QueryMove(Strict):
    version: Version
    status: Literal[ANSWERED, CLOSED]  # type: ignore[valid-type]
    answer: Text | None = None


class QueryOut(Schema):
    id: int
    participant_id: str
    table: str
    record_id: int | None
    field: str | None
    text: str
    answer: str | None
    status: str
    opened_at: LocalTime
    version: int


class QueryPage(Schema):
    count: int
    items: list[QueryOut]


@router.get("", response={200: QueryPage, **ERRORS}, operation_id="list_queries")
def list_queries(
    request: HttpRequest,
    study: Key | None = None,
    participant_id: Key | None = None,
    status: Key | None = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0,
):
    member = member_for(request, study)
    require_role(member, READERS, "read data queries")
    rows = DataQuery.objects.filter(
        study=member.study,
        participant_id__in=visible_participants(member).values("participant_id"),
    )
    if participant_id is not None:
        rows = rows.filter(participant_id=participant_id)
    if status is not None:
        rows = rows.filter(status=status)
    return Status(200, page(rows, limit, offset))


@router.post("", response={201: QueryOut, **ERRORS}, operation_id="open_query")
def create(request: HttpRequest, body: QueryIn, study: Key | None = None):
    return Status(201, open_query(request.auth, member_for(request, study), body.model_dump()))


@router.post(
    "/{query_id}/status",
    response={200: QueryOut, 409: Error, **ERRORS},
    operation_id="move_query",
)
def move(request: HttpRequest, query_id: int, body: QueryMove, study: Key | None = None):
    member = member_for(request, study)
    query = visible_query(member, checked_id(query_id))
    return Status(
        200, move_query(request.auth, member, query, body.version, body.status, body.answer)
    )


api.add_router("/queries", router)
