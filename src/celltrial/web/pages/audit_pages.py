"""The audit history pages: a participant's, one record's (who, when, before and after,
why) and the study's, filterable and as CSV. Read through services.audit.visible_audit, the
API's rules: the readers only, another site's participants absent (a record of one: 404)."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from celltrial.registry.models import Membership
from celltrial.registry.services.audit import audit_csv, changes, visible_audit
from celltrial.web.pages.access import participant_of, study_page
from celltrial.web.pages.forms import DATE

PER_PAGE = 100


class AuditFilter(forms.Form):
    participant_id = forms.CharField(required=False, max_length=100, label="Participant")
    username = forms.CharField(required=False, max_length=150, label="User")
    table = forms.CharField(required=False, max_length=100)
    since = forms.DateField(required=False, widget=DATE, label="From (day)")
    until = forms.DateField(required=False, widget=DATE, label="To (day, included)")


def _rows(entries) -> list[dict]:
    return [{"entry": e, "changes": changes(e)} for e in entries]


def _filtered(request: HttpRequest, member: Membership):
    form = AuditFilter(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    return form, visible_audit(member, **{k: v or None for k, v in values.items()})


@study_page
def study_audit(request: HttpRequest, member: Membership) -> HttpResponse:
    form, rows = _filtered(request, member)
    page = Paginator(rows.order_by("-id"), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "member": member,
        "form": form,
        "page": page,
        "rows": _rows(page),
        "query": request.GET.urlencode(),
        "title": f"Audit trail of {member.study.study_id}",
    }
    return render(request, "pages/audit_study.html", context)


@study_page
def study_audit_csv(request: HttpRequest, member: Membership) -> HttpResponse:
    _, rows = _filtered(request, member)
    response = HttpResponse(audit_csv(rows), content_type="text/csv")
    name = f"audit-{member.study.study_id}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@study_page
def participant_audit(
    request: HttpRequest, member: Membership, participant_id: str
) -> HttpResponse:
    person = participant_of(member, participant_id)
    history = visible_audit(member, participant_id=participant_id)
    entries = history.order_by("-id")[:500]
    records = history.order_by("table", "record_id").values_list("table", "record_id").distinct()
    context = {
        "member": member,
        "person": person,
        "rows": _rows(entries),
        "records": records,
        "title": f"Audit history of {participant_id}",
    }
    return render(request, "pages/audit.html", context)


@study_page
def record_audit(
    request: HttpRequest, member: Membership, table: str, record_id: int
) -> HttpResponse:
    entries = list(visible_audit(member, table=table, record_id=record_id).order_by("id"))
    if not entries:  # no such record, or one of another site's participants
        raise Http404(f"no history of {table} {record_id}")
    pid = entries[-1].participant_id
    context = {
        "member": member,
        "rows": _rows(entries),
        "participant_id": pid,
        "title": f"History of {table} record {record_id}" + (f" ({pid})" if pid else ""),
    }
    return render(request, "pages/audit_record.html", context)
