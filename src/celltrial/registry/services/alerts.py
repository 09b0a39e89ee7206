"""Safety alerts (issue 12): a serious adverse event, an adverse event of grade 3 or more,
a lab value outside its plausible range, or a hypoglycaemia below 3.0 mmol/L notifies the
investigators of the participant's site (page header, dashboard, e-mail), and each alert
is acknowledged by name."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet

from celltrial.clinical.analytes import ANALYTES
from celltrial.clinical.hypoglycemia import LEVEL2_BELOW_MMOL_L
from celltrial.registry.models import Alert, ClinicalRow, Membership, Participant
from celltrial.registry.models.alerts import AE_GRADE, HYPO, IMPLAUSIBLE, SAE
from celltrial.registry.models.audit import UPDATE
from celltrial.registry.models.study import ADMIN, INVESTIGATOR
from celltrial.registry.services.access import site_ids
from celltrial.registry.services.audit import audit_entry
from celltrial.registry.services.errors import Forbidden, NotFound

# CTCAE v5.0: grade 3 is severe or medically significant, the first grade an investigator
# must review at once (issue 12: "an adverse event of grade 3 or more").
ALERT_GRADE = 3
# glucose analytes in mmol/L (clinical.analytes) the ADA level-2 threshold applies to
GLUCOSE = ("fpg", "pg2h")
ACKNOWLEDGERS = (ADMIN, INVESTIGATOR)


def findings(table: str, row: dict) -> list[tuple[str, str]]:
    """(kind, message) of each alert one stored row raises."""
    if table == "adverse_events":
        return _ae_findings(row)
    if table == "measurements":
        return _lab_findings(row)
    return []


def _ae_findings(row: dict) -> list[tuple[str, str]]:
    out = []
    term = row.get("term")
    if row.get("serious"):
        out.append((SAE, f"serious adverse event {row.get('ae_id')}: {term}"))
    grade = row.get("grade")
    if grade is not None and grade >= ALERT_GRADE:
        out.append((AE_GRADE, f"adverse event {row.get('ae_id')} of grade {grade}: {term}"))
    return out


def _lab_findings(row: dict) -> list[tuple[str, str]]:
    analyte, value = ANALYTES.get(row.get("analyte") or ""), row.get("value")
    if analyte is None or value is None:
        return []
    shown = f"{analyte.name} {value:g} {analyte.unit}"
    if analyte.id in GLUCOSE and value < LEVEL2_BELOW_MMOL_L:
        return [(HYPO, f"hypoglycaemia level 2 (< {LEVEL2_BELOW_MMOL_L} mmol/L): {shown}")]
    lo, hi = analyte.plausible
    if analyte.kind == "question" and value == 1:  # a yes: "outside 0-0" would say nothing
        # a new malignancy is an adverse event (ICH E2A), entered with its grade and dates
        return [(IMPLAUSIBLE, f"{analyte.name}: yes; record it as an adverse event")]
    if not lo <= value <= hi:
        return [(IMPLAUSIBLE, f"{shown} outside the plausible range {lo:g}-{hi:g}")]
    return []


def raise_alerts(obj: ClinicalRow) -> list[Alert]:
    """Store the alerts a new or changed row raises and e-mail the site's investigators."""
    values = {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields}
    found = findings(obj.table, values)
    if not found:
        return []
    pid = values["participant_id"]
    site = Participant.objects.filter(study=obj.study, participant_id=pid, deleted=False)
    site_id = site.values_list("site_id", flat=True).first() or ""
    alerts = [
        Alert.objects.create(
            study=obj.study,
            site_id=site_id,
            participant_id=pid,
            table=obj.table,
            record_id=obj.pk,
            kind=kind,
            message=message,
        )
        for kind, message in found  # at most two per row
    ]
    transaction.on_commit(lambda: _mail(alerts))
    return alerts


def _mail(alerts: list[Alert]) -> None:
    first = alerts[0]
    to = list(
        investigators(first.study_id, first.site_id)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not to:
        return
    body = "\n".join(f"{a.participant_id} ({a.site_id}): {a.message}" for a in alerts)
    subject = f"[CellTrial {first.study.study_id}] safety alert for {first.participant_id}"
    send_mail(subject, body, None, to, fail_silently=True)  # an alert is stored regardless


def investigators(study_pk: int, site_id: str) -> QuerySet:
    return Membership.objects.filter(
        study_id=study_pk, role=INVESTIGATOR, sites__site_id=site_id
    ).select_related("user")


def open_alerts(member: Membership) -> QuerySet:
    """Alerts not yet acknowledged that a member is notified of (investigators, admins)."""
    if member.role not in ACKNOWLEDGERS:
        return Alert.objects.none()
    rows = Alert.objects.filter(study=member.study, acknowledged_at__isnull=True)
    sites = site_ids(member)
    return rows if sites is None else rows.filter(site_id__in=sites)


def acknowledge(actor: AbstractBaseUser, member: Membership, alert_id: int) -> Alert:
    if member.role not in ACKNOWLEDGERS:
        raise Forbidden(f"a {member.role} may not acknowledge alerts (investigators do)")
    with transaction.atomic():
        alert = open_alerts(member).select_for_update().filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(f"no open alert {alert_id}")
        before = {"acknowledged_name": None, "acknowledged_at": None}
        alert.acknowledged_by = actor
        alert.acknowledged_name = actor.get_full_name() or actor.get_username()
        alert.acknowledged_at = dt.datetime.now()
        alert.save()
        after = {
            "acknowledged_name": alert.acknowledged_name,
            "acknowledged_at": alert.acknowledged_at,
        }
        audit_entry(
            member.study,
            "alerts",
            alert.pk,
            UPDATE,
            2,
            actor,
            alert.message,
            before,
            after,
            alert.participant_id,
        ).save()
    return alert
