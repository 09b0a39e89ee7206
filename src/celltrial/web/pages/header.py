"""What every page header shows: the user's studies (the switcher) and, for the current
study, the safety alerts awaiting the user's acknowledgement."""

from __future__ import annotations

from django.http import HttpRequest

from celltrial.registry.services.access import memberships
from celltrial.registry.services.alerts import open_alerts


def header(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    mine = list(memberships(user).order_by("study__study_id"))
    match = getattr(request, "resolver_match", None)
    current = match.kwargs.get("study_id") if match else None
    member = next((m for m in mine if m.study.study_id == current), None)
    alerts = open_alerts(member).count() if member else 0
    return {
        "my_studies": mine,
        "current_study": current,
        "current_member": member,
        "alert_count": alerts,
    }
