"""Consent records: list, record, withdraw."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from celltrial.registry.models import Consent
from celltrial.registry.models.consent import SCOPES
from celltrial.registry.models.study import READERS
from celltrial.registry.services.access import require_role, visible_participants
from celltrial.registry.services.consent_records import (
    record_consent,
    visible_consent,
    withdraw_consent,
)
from celltrial.web.api.context import checked_id, member_for, page
from celltrial.web.api.root import ERRORS, Error, api
from celltrial.web.api.schemas import Strict
from celltrial.web.api.types import Key, Text, Version

router = Router(tags=["consents"])


class ConsentIn(Strict):
    participant_id: Key
    form_version: Text
    date_signed: dt.date
    signed_by: Text


class Withdrawal(Strict):
    version: Version
    withdrawal_date: dt.date
    scope: Literal[SCOPES]  # type: ignore[valid-type]
    reason: Annotated[str, Field(min_length=1, max_length=10_000, pattern=r"^[^\x00]*$")]


class ConsentOut(Schema):
    id: int
    participant_id: str
    form_version: str
    date_signed: dt.date
    signed_by: str
    withdrawal_date: dt.date | None
    withdrawal_scope: str | None
    version: int


class ConsentPage(Schema):
    count: int
    items: list[ConsentOut]


@router.get("", response={200: ConsentPage, **ERRORS}, operation_id="list_consents")
def list_consents(
    request: HttpRequest,
    study: Key | None = None,
    participant_id: Key | None = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0,
):
    member = member_for(request, study)
    require_role(member, READERS, "read consent")
    rows = Consent.objects.filter(
        study=member.study,
        participant_id__in=visible_participants(member).values("participant_id"),
    )
    if participant_id is not None:
        rows = rows.filter(participant_id=participant_id)
    return Status(200, page(rows, limit, offset))


@router.post("", response={201: ConsentOut, **ERRORS}, operation_id="record_consent")
def create(request: HttpRequest, body: ConsentIn, study: Key | None = None):
    member = member_for(request, study)
    return Status(201, record_consent(request.auth, member, body.model_dump()))


@router.post(
    "/{consent_id}/withdraw",
    response={200: ConsentOut, 409: Error, **ERRORS},
    operation_id="withdraw_consent",
)
def withdraw(request: HttpRequest, consent_id: int, body: Withdrawal, study: Key | None = None):
    member = member_for(request, study)
    consent = visible_consent(member, checked_id(consent_id))
    withdrawn = withdraw_consent(
        request.auth, member, consent, body.version, body.withdrawal_date, body.scope, body.reason
    )
    return Status(200, withdrawn)


api.add_router("/consents", router)
