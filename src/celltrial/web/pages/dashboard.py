"""Home (the user's studies) and the study dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from celltrial.registry.models import Membership
from celltrial.registry.models.study import STATISTICIAN
from celltrial.registry.services.access import memberships, site_ids
from celltrial.registry.services.alerts import open_alerts
from celltrial.registry.services.worklist import worklist
from celltrial.web.pages.access import study_page
from celltrial.web.pages.cached import cached

LISTED = 20  # rows shown per dashboard list; the counts give the whole


@login_required
def home(request: HttpRequest) -> HttpResponse:
    mine = list(memberships(request.user)[:2])
    if len(mine) == 1:
        return redirect("pages:dashboard", study_id=mine[0].study.study_id)
    return render(request, "pages/home.html")


def _worklist_context(member: Membership) -> dict:
    work = worklist(member)
    peak = max(work.enrolment["cumulative"].max() or 1, 1)
    enrolment = work.enrolment.with_columns(
        (work.enrolment["cumulative"] / peak * 100).round(1).alias("pct")
    ).to_dicts()
    lists = {
        "due": work.due,
        "overdue": work.overdue,
        "out_of_window": work.out_of_window,
        "missing": work.missing,
        "ae_review": work.ae_review,
        "follow_up": work.follow_up,
    }
    return {
        "open_queries": work.open_queries,
        "enrolment": enrolment,
        "counts": {k: v.height for k, v in lists.items()},
        "rows": {k: v.head(LISTED).to_dicts() for k, v in lists.items()},
    }


@study_page
def dashboard(request: HttpRequest, member: Membership) -> HttpResponse:
    if member.role == STATISTICIAN:  # reads de-identified exports only (issue 11)
        return redirect("pages:analysis", study_id=member.study.study_id)
    sites = site_ids(member)
    scope = ("dashboard", member.study_id, ",".join(sorted(sites)) if sites is not None else "*")
    context = {
        "member": member,
        **cached(scope, lambda: _worklist_context(member)),
        "alerts": list(open_alerts(member).order_by("-created_at")[:LISTED]),
    }
    return render(request, "pages/dashboard.html", context)
