"""Data queries, signatures and alerts, through the same services as the API
(data_queries, signatures, alerts)."""

from __future__ import annotations

from functools import partial

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from celltrial.registry.models import Membership
from celltrial.registry.models.queries import ANSWERED, CLOSED
from celltrial.registry.services.alerts import acknowledge, open_alerts
from celltrial.registry.services.data_queries import move_query, open_query, visible_query
from celltrial.registry.services.errors import Refused
from celltrial.registry.services.signatures import MEANINGS, sign, unlock
from celltrial.web.pages.access import participant_of, study_page
from celltrial.web.pages.entry import _page, _saved, _to_participant
from celltrial.web.pages.forms import AnswerForm, QueryForm, SignForm, UnlockForm, add_problems


@study_page
def open_query_page(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    person = participant_of(member, participant_id)
    table = request.GET.get("table") or request.POST.get("table") or "participants"
    record = request.GET.get("record") or request.POST.get("record") or person.pk
    form = QueryForm(request.POST or None, initial={"field": request.GET.get("field", "")})
    on = {"participant_id": participant_id, "table": table, "record_id": int(record)}
    if _saved(request, form, partial(open_query, request.user, member), on):
        return _to_participant(person)
    return _page(
        request,
        member,
        f"Open a data query on {participant_id} ({table} {record})",
        form,
        person,
        {"hidden": {"table": table, "record": record}},
    )


@study_page
def query_page(request: HttpRequest, member: Membership, query_id: int) -> HttpResponse:
    query = visible_query(member, query_id)
    form = (
        AnswerForm(request.POST or None) if request.POST.get("action") != "close" else AnswerForm()
    )
    if request.method == "POST":
        status = CLOSED if request.POST.get("action") == "close" else ANSWERED
        answer = request.POST.get("answer") if status == ANSWERED else None
        try:
            move_query(
                request.user, member, query, int(request.POST.get("version", 0)), status, answer
            )
            return redirect(
                "pages:participant",
                study_id=member.study.study_id,
                participant_id=query.participant_id,
            )
        except Refused as exc:
            add_problems(form, exc.problems)
    return render(request, "pages/query.html", {"member": member, "query": query, "form": form})


@study_page
def sign_page(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    person = participant_of(member, participant_id)
    form = SignForm(request.POST or None)
    form.fields["meaning"].choices = [(m, m) for m in MEANINGS]

    def save(v: dict) -> None:
        sign(request.user, member, participant_id, v["password"], v["meaning"])

    if _saved(request, form, save):
        return _to_participant(person)
    return _page(request, member, f"Sign the forms of {participant_id}", form, person)


@study_page
def unlock_page(request: HttpRequest, member: Membership, participant_id: str) -> HttpResponse:
    person = participant_of(member, participant_id)
    form = UnlockForm(request.POST or None)

    def save(v: dict) -> None:
        unlock(request.user, member, participant_id, v["reason"])

    if _saved(request, form, save):
        return _to_participant(person)
    return _page(request, member, f"Unlock the forms of {participant_id}", form, person)


@study_page
def alerts_page(request: HttpRequest, member: Membership) -> HttpResponse:
    alerts = open_alerts(member).order_by("-created_at")
    return render(request, "pages/alerts.html", {"member": member, "alerts": alerts})


@require_POST
@study_page
def acknowledge_page(request: HttpRequest, member: Membership, alert_id: int) -> HttpResponse:
    acknowledge(request.user, member, alert_id)
    return redirect("pages:alerts", study_id=member.study.study_id)
