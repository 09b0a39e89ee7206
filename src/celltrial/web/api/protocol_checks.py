"""What the protocol says of stored rows: eligibility per criterion (screen), a lot's
release result (ISCT release rules), a participant's visit schedule with its windows."""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.http import HttpRequest
from ninja import Router, Schema, Status

from celltrial.protocol import anchor_dates, release_lots, screen, visit_dates
from celltrial.registry.services.errors import Problem, Refused
from celltrial.registry.services.frames import study_data
from celltrial.registry.services.protocols import study_protocol
from celltrial.web.api.root import ERRORS, api
from celltrial.web.api.tables import find_row

router = Router(tags=["protocol"])


class CriterionOut(Schema):
    criterion_id: str
    kind: str
    status: str
    reason: str | None
    value: str | None


class EligibilityOut(Schema):
    participant_id: str
    eligible: bool
    criteria: list[CriterionOut]


class ReleaseOut(Schema):
    lot_id: str
    released: bool
    reasons: list[str]


class ScheduledVisit(Schema):
    visit_id: str
    target_day: int
    target_date: dt.date
    window_start: dt.date
    window_end: dt.date
    extension: bool  # added to the paper's schedule (lian2022's long-term follow-up)


def _protocol(study):
    protocol = study_protocol(study)
    if protocol is None:
        raise Refused([Problem("study", "the study names no protocol", study.study_id)])
    return protocol


@router.get(
    "/participants/{record_id}/eligibility",
    response={200: EligibilityOut, **ERRORS},
    operation_id="eligibility",
)
def eligibility(request: HttpRequest, record_id: int):
    _, row = find_row(request, "participants", record_id, with_deleted=False)
    result = screen(study_data(row.study, [row.participant_id]), _protocol(row.study))
    eligible = result.participants.filter(pl.col("participant_id") == row.participant_id)
    criteria = result.criteria.filter(pl.col("participant_id") == row.participant_id)
    return Status(
        200,
        {
            "participant_id": row.participant_id,
            "eligible": bool(eligible["eligible"][0]),
            "criteria": criteria.select(
                "criterion_id", "kind", "status", "reason", pl.col("value").cast(pl.Utf8)
            ).to_dicts(),
        },
    )


@router.get(
    "/participants/{record_id}/schedule",
    response={200: list[ScheduledVisit], **ERRORS},
    operation_id="schedule",
)
def schedule(request: HttpRequest, record_id: int):
    _, row = find_row(request, "participants", record_id, with_deleted=False)
    protocol = _protocol(row.study)
    study = study_data(row.study, [row.participant_id])
    dates = visit_dates(anchor_dates(study, protocol), protocol)
    return Status(
        200,
        dates.select(
            "visit_id", "target_day", "target_date", "window_start", "window_end", "extension"
        ).to_dicts(),
    )


@router.get(
    "/lots/{record_id}/release", response={200: ReleaseOut, **ERRORS}, operation_id="lot_release"
)
def release(request: HttpRequest, record_id: int, on: dt.date | None = None):
    _, row = find_row(request, "lots", record_id, with_deleted=False)
    lots = study_data(row.study, []).lots.filter(pl.col("lot_id") == row.lot_id)
    result = release_lots(lots, _protocol(row.study).lot_release, on).row(0, named=True)
    return Status(
        200, {"lot_id": row.lot_id, "released": result["released"], "reasons": result["reasons"]}
    )


api.add_router("", router)
