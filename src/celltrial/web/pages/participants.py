"""The participants list (search, filters) and a participant's page: timeline, plots,
eligibility, consent, open queries, signature."""

from __future__ import annotations

import polars as pl
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from celltrial.data.study import StudyData
from celltrial.protocol import screen
from celltrial.registry.models import Consent, DataQuery, Membership, Participant
from celltrial.registry.models.queries import CLOSED
from celltrial.registry.services.access import site_ids, visible_participants
from celltrial.registry.services.frames import study_data
from celltrial.registry.services.protocols import study_protocol
from celltrial.registry.services.signatures import active_signature
from celltrial.web.pages.access import participant_of, study_page
from celltrial.web.pages.cached import cached
from celltrial.web.pages.plots import analyte_plots
from celltrial.web.pages.timeline import timeline

PER_PAGE = 50


@study_page
def participant_list(request: HttpRequest, member: Membership) -> HttpResponse:
    rows = visible_participants(member).order_by("participant_id")
    q = request.GET.get("q", "").strip()
    site = request.GET.get("site", "")
    status = request.GET.get("status", "")
    if q:
        rows = rows.filter(Q(participant_id__icontains=q) | Q(arm__icontains=q))
    if site:
        rows = rows.filter(site_id=site)
    if status:
        rows = rows.filter(status=status)
    sites = site_ids(member) or list(member.study.sites.values_list("site_id", flat=True))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "member": member,
        "page": page,
        "q": q,
        "site": site,
        "status": status,
        "sites": sorted(sites),
        "statuses": ("screening", "enrolled", "completed", "withdrawn"),
    }
    template = "pages/participant_rows.html" if request.htmx else "pages/participants.html"
    return render(request, template, context)


def eligibility(
    member: Membership, participant_id: str, data: StudyData | None = None
) -> dict | None:
    """The protocol's screen() of one participant, as the API's eligibility answer."""
    protocol = study_protocol(member.study)
    if protocol is None:
        return None
    result = screen(data or study_data(member.study, [participant_id]), protocol)
    eligible = result.participants.filter(pl.col("participant_id") == participant_id)
    criteria = result.criteria.filter(pl.col("participant_id") == participant_id)
    return {
        "eligible": bool(eligible["eligible"][0]) if eligible.height else False,
        "criteria": criteria.select(
            "criterion_id", "kind", "status", "reason", pl.col("value").cast(pl.Utf8)
        ).to_dicts(),
    }


def _record(member: Membership, person: Participant) -> dict:
    """The parts of the page computed from the participant's data (cached)."""
    participant_id = person.participant_id
    # read by participant alone: participant_of checked that the member may see it
    data = study_data(member.study, [participant_id])
    return {
        "timeline": timeline(member, participant_id, data.tables()),
        "plots": analyte_plots(data.measurements),
        "eligibility": eligibility(member, participant_id, data),
    }


@study_page
def participant_page(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    person = participant_of(member, participant_id)
    context = {
        "member": member,
        "person": person,
        **cached(
            ("participant", member.study_id, participant_id),
            lambda: _record(member, person),
        ),
        "consents": Consent.objects.filter(
            study=member.study, participant_id=participant_id
        ).order_by("id"),
        "queries": DataQuery.objects.filter(study=member.study, participant_id=participant_id)
        .exclude(status=CLOSED)
        .order_by("id"),
        "signature": active_signature(member.study, participant_id),
    }
    return render(request, "pages/participant.html", context)
