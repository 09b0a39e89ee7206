"""The study a request acts in: named by `study`, or the user's only study."""

from __future__ import annotations

from django.http import HttpRequest

from celltrial.registry.models import Membership
from celltrial.registry.services.access import membership, memberships
from celltrial.registry.services.errors import NotFound, Problem, Refused
from celltrial.web.api.types import ID_MAX


def member_for(request: HttpRequest, study: str | None) -> Membership:
    if study is not None:
        return membership(request.auth, study)
    mine = list(memberships(request.auth)[:2])
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise NotFound("you are a member of no study")
    raise Refused([Problem("study", "you work in several studies: name one (?study=ID)")])


def checked_id(record_id: int) -> int:
    """An id the database can hold; any other is simply not found."""
    if not 1 <= record_id <= ID_MAX:
        raise NotFound(f"no record {record_id}")
    return record_id


def page(rows, limit: int, offset: int) -> dict:
    return {"count": rows.count(), "items": list(rows.order_by("id")[offset : offset + limit])}
