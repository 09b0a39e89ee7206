"""Studies, their sites and members (made and changed by admins), the audit trail (JSON or
CSV) and the study export (a zip of the StudyData folder; statisticians: de-identified)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import Field

from celltrial.protocol.loader import shipped_protocols
from celltrial.registry.models import ROLES, Membership
from celltrial.registry.models.study import ADMIN, READERS, STATISTICIAN
from celltrial.registry.services.access import (
    memberships,
    require_role,
    site_ids,
)
from celltrial.registry.services.audit import audit_csv as audit_csv_text
from celltrial.registry.services.audit import visible_audit
from celltrial.registry.services.exporting import export_study
from celltrial.registry.services.studies import NewSite, NewStudy, add_site, create_study
from celltrial.registry.services.users import (
    add_user,
    member_values,
    remove_member,
    study_members,
)
from celltrial.web.api.context import member_for, page
from celltrial.web.api.root import ERRORS, api
from celltrial.web.api.schemas import Strict
from celltrial.web.api.types import Int64, Key, LocalTime, Text

router = Router(tags=["studies"])


SiteId = Annotated[str, Field(max_length=100, pattern=r"^[^\x00]*$")]
Username = Annotated[str, Field(max_length=150, pattern=r"^[^\x00]*$")]
# a protocol file's text (the shipped ones are 6-12 kB); the whole request is capped too
ProtocolText = Annotated[str, Field(max_length=200_000, pattern=r"^[^\x00]*$")]
SHIPPED = ", ".join(shipped_protocols())


class StudyOut(Schema):
    study_id: str
    title: str | None
    protocol: str | None
    role: str
    sites: list[str]


class SiteOut(Schema):
    site_id: str
    name: str | None


class SiteIn(Strict):
    site_id: SiteId
    name: Text | None = None


class StudyIn(Strict):
    study_id: Key
    title: Text | None = None
    protocol: Key | None = Field(None, description="a shipped protocol: " + SHIPPED)
    protocol_yaml: ProtocolText | None = Field(
        None, description="or a protocol file's text, checked as `celltrial protocol check` does"
    )
    sites: list[SiteIn] = Field(default_factory=list, max_length=1000)


class MemberIn(Strict):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        pattern=r"^[^\x00]*$",
        description="for a new user; an existing user keeps theirs",
    )
    role: Literal[ROLES]  # type: ignore[valid-type]
    sites: list[SiteId] = Field(default_factory=list)


class MemberOut(Schema):
    username: str
    role: str
    sites: list[str]


class AuditOut(Schema):
    id: int
    at: LocalTime
    username: str
    action: str
    table: str
    record_id: int
    participant_id: str | None
    version: int
    reason: str | None
    before: dict | None
    after: dict | None


class AuditPage(Schema):
    count: int
    items: list[AuditOut]


def _study_out(member: Membership) -> dict:
    sites = site_ids(member)
    if sites is None:
        sites = list(member.study.sites.values_list("site_id", flat=True))
    study = member.study
    return {
        "study_id": study.study_id,
        "title": study.title,
        "protocol": study.protocol,
        "role": member.role,
        "sites": sorted(sites),
    }


@router.get("", response={200: list[StudyOut], **ERRORS}, operation_id="list_studies")
def list_studies(request: HttpRequest):
    return Status(200, [_study_out(m) for m in memberships(request.auth)])  # a user's few


@router.post("", response={201: StudyOut, **ERRORS}, operation_id="create_study")
def create(request: HttpRequest, body: StudyIn):
    """A new study with its sites (admins of a study only); its creator is its admin."""
    sites = [NewSite(s.site_id, s.name) for s in body.sites]
    new = NewStudy(body.study_id, body.title, body.protocol, body.protocol_yaml, sites)
    member = create_study(request.auth, new)
    return Status(201, _study_out(member))


@router.get("/{study_id}/sites", response={200: list[SiteOut], **ERRORS}, operation_id="list_sites")
def list_sites(request: HttpRequest, study_id: Key):
    member = member_for(request, study_id)
    sites = site_ids(member)
    rows = member.study.sites.order_by("site_id")
    return Status(200, list(rows if sites is None else rows.filter(site_id__in=sites)))


@router.post("/{study_id}/sites", response={201: SiteOut, **ERRORS}, operation_id="add_site")
def create_site(request: HttpRequest, study_id: Key, body: SiteIn):
    member = member_for(request, study_id)
    return Status(201, add_site(request.auth, member, NewSite(body.site_id, body.name)))


@router.get(
    "/{study_id}/members", response={200: list[MemberOut], **ERRORS}, operation_id="list_members"
)
def list_members(request: HttpRequest, study_id: Key):
    members = study_members(member_for(request, study_id))
    return Status(200, [member_values(m) for m in members])


@router.post("/{study_id}/members", response={201: MemberOut, **ERRORS}, operation_id="add_member")
def add_member(request: HttpRequest, study_id: Key, body: MemberIn):
    """Add a user (a new one needs a password) or change a member's role and sites."""
    member = member_for(request, study_id)
    require_role(member, (ADMIN,), "manage users")
    added = add_user(
        body.username, body.password, body.role, study_id, body.sites, actor=request.auth
    )
    return Status(201, member_values(added))


@router.delete(
    "/{study_id}/members/{username}",
    response={200: MemberOut, **ERRORS},
    operation_id="remove_member",
)
def remove(request: HttpRequest, study_id: Key, username: Username):
    """End a membership (the account stays; the study keeps at least one admin)."""
    member = member_for(request, study_id)
    return Status(200, remove_member(request.auth, member, username))


def _audit_rows(request: HttpRequest, study_id: str, table, record_id, participant_id):
    member = member_for(request, study_id)
    return visible_audit(member, table, record_id, participant_id)


@router.get("/{study_id}/audit", response={200: AuditPage, **ERRORS}, operation_id="audit")
def audit(
    request: HttpRequest,
    study_id: Key,
    table: Key | None = None,
    record_id: Int64 | None = None,
    participant_id: Key | None = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0,
):
    return Status(
        200, page(_audit_rows(request, study_id, table, record_id, participant_id), limit, offset)
    )


@router.get(
    "/{study_id}/audit.csv",
    response={200: str, **ERRORS},
    operation_id="audit_csv",
    openapi_extra={"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}},
)
def audit_csv(
    request: HttpRequest,
    study_id: Key,
    table: Key | None = None,
    record_id: Int64 | None = None,
    participant_id: Key | None = None,
) -> HttpResponse:
    rows = _audit_rows(request, study_id, table, record_id, participant_id)
    response = HttpResponse(audit_csv_text(rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{study_id}.csv"'
    return response


@router.get(
    "/{study_id}/export",
    response={200: bytes, **ERRORS},
    operation_id="export",
    openapi_extra={
        "responses": {
            200: {
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
            }
        }
    },
)
def export(request: HttpRequest, study_id: Key, deidentify: bool = False) -> HttpResponse:
    """The study as a zip of its StudyData folder; statisticians get only de-identified."""
    member = member_for(request, study_id)
    if member.role == STATISTICIAN:
        if not deidentify:
            require_role(member, READERS, "export identified data (use deidentify=true)")
    else:
        require_role(member, (ADMIN,), "export the whole study (admins and statisticians)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = export_study(member.study, Path(tmp) / study_id, deidentify)
        archive = shutil.make_archive(str(Path(tmp) / "export"), "zip", folder)
        data = Path(archive).read_bytes()
    response = HttpResponse(data, content_type="application/zip")
    name = f"{study_id}{'-deidentified' if deidentify else ''}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


api.add_router("/studies", router)
