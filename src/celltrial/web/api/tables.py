"""The eight StudyData tables as REST resources, one router per table made by one factory:
list (paginated, filtered), read, create, change (version and reason), soft delete."""

from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Status
from pydantic import Field

from celltrial.data.schema import TABLES
from celltrial.registry.models import CLINICAL_MODELS
from celltrial.registry.services.access import membership, visible_rows
from celltrial.registry.services.errors import NotFound
from celltrial.registry.services.writes import create_row, delete_row, update_row
from celltrial.web.api.context import checked_id, member_for, page
from celltrial.web.api.root import ERRORS, Error, api
from celltrial.web.api.schemas import page_schema, request_schema, response_schema, update_schema
from celltrial.web.api.types import Key, Version

PATHS = {t: t.replace("_", "-") for t in TABLES}  # adverse_events -> /api/adverse-events
FILTERS = ("participant_id", "visit_id", "analyte", "criterion_id", "lot_id", "drug", "site_id")
Reason = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\x00]*$")]
Limit = Annotated[int, Field(ge=1, le=1000)]
Offset = Annotated[int, Field(ge=0, le=10**9)]


def find_row(request: HttpRequest, table: str, record_id: int, with_deleted: bool = True):
    """A row the user may see, or 404 (also for another site's or study's row)."""
    row = CLINICAL_MODELS[table].objects.select_related("study").filter(pk=checked_id(record_id))
    found = row.first()
    if found is None:
        raise NotFound(f"no {table} record {record_id}")
    member = membership(request.auth, found.study.study_id)
    if not visible_rows(member, table, with_deleted).filter(pk=found.pk).exists():
        raise NotFound(f"no {table} record {record_id}")
    return member, found


def _router(table: str) -> Router:
    router = Router(tags=[PATHS[table]])
    columns = {c.name for c in TABLES[table].columns}
    filters = [f for f in FILTERS if f in columns]
    Out = response_schema(table)
    In = request_schema(table)
    Change = update_schema(table)
    responses = ERRORS

    @router.get(
        "",
        response={200: page_schema(Out, f"{Out.__name__}Page"), **responses},
        operation_id=f"list_{table}",
    )
    def list_rows(
        request: HttpRequest,
        study: Key | None = None,
        participant_id: Key | None = None,
        visit_id: Key | None = None,
        analyte: Key | None = None,
        include_deleted: bool = False,
        limit: Limit = 100,
        offset: Offset = 0,
    ):
        rows = visible_rows(member_for(request, study), table, include_deleted)
        given = {"participant_id": participant_id, "visit_id": visit_id, "analyte": analyte}
        for name, value in given.items():
            if value is not None and name in filters:
                rows = rows.filter(**{name: value})
        return Status(200, page(rows, limit, offset))

    @router.get("/{record_id}", response={200: Out, **responses}, operation_id=f"get_{table}")
    def get_row(request: HttpRequest, record_id: int):
        return Status(200, find_row(request, table, record_id)[1])

    @router.post("", response={201: Out, **responses}, operation_id=f"create_{table}")
    def create(request: HttpRequest, body: In, study: Key | None = None):
        member = member_for(request, study)
        return Status(201, create_row(request.auth, member, table, body.model_dump()))

    @router.patch(
        "/{record_id}",
        response={200: Out, 409: Error, **responses},
        operation_id=f"change_{table}",
    )
    def change(request: HttpRequest, record_id: int, body: Change):
        member, row = find_row(request, table, record_id, with_deleted=False)
        values = body.model_dump(exclude_unset=True)
        version, reason = values.pop("version"), values.pop("reason")
        return Status(200, update_row(request.auth, member, table, row.pk, version, values, reason))

    @router.delete(
        "/{record_id}",
        response={200: Out, 409: Error, **responses},
        operation_id=f"delete_{table}",
    )
    def delete(request: HttpRequest, record_id: int, version: Version, reason: Reason):
        member, row = find_row(request, table, record_id, with_deleted=False)
        return Status(200, delete_row(request.auth, member, table, row.pk, version, reason))

    return router


for _table in TABLES:
    api.add_router(f"/{PATHS[_table]}", _router(_table))
