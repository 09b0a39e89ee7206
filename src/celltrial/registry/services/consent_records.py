"""Recording and withdrawing consent (audited like every change)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.forms.models import model_to_dict

from celltrial.registry.models import Consent, Membership
from celltrial.registry.models.audit import CREATE, UPDATE
from celltrial.registry.models.consent import SCOPES
from celltrial.registry.models.study import WRITERS
from celltrial.registry.services.access import check_participant, require_role
from celltrial.registry.services.audit import audit_entry
from celltrial.registry.services.errors import Conflict, NotFound, Problem, Refused

FIELDS = (
    "participant_id",
    "form_version",
    "date_signed",
    "signed_by",
    "withdrawal_date",
    "withdrawal_scope",
)


def _values(consent: Consent) -> dict:
    return model_to_dict(consent, fields=FIELDS)


def record_consent(actor: AbstractBaseUser, member: Membership, values: dict) -> Consent:
    require_role(member, WRITERS, "record consent")
    check_participant(member, values["participant_id"])
    if values["date_signed"] > dt.date.today():
        raise Refused(
            [
                Problem(
                    "date_signed",
                    "consent cannot be signed in the future",
                    values["date_signed"].isoformat(),
                )
            ]
        )
    with transaction.atomic():
        consent = Consent.objects.create(study=member.study, **values)
        audit_entry(
            member.study,
            "consent",
            consent.pk,
            CREATE,
            1,
            actor,
            None,
            None,
            _values(consent),
            consent.participant_id,
        ).save()
    return consent


def withdraw_consent(
    actor: AbstractBaseUser,
    member: Membership,
    consent: Consent,
    version: int,
    on: dt.date,
    scope: str,
    reason: str,
) -> Consent:
    """Withdrawal from `on`: later data refused, earlier data kept as they are."""
    require_role(member, WRITERS, "record a withdrawal")
    problems = []
    if scope not in SCOPES:
        problems.append(Problem("scope", f"scope must be one of {', '.join(SCOPES)}", scope))
    if on < consent.date_signed:
        problems.append(
            Problem("withdrawal_date", "withdrawal before the consent was signed", on.isoformat())
        )
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        current = Consent.objects.select_for_update().get(pk=consent.pk)
        if current.version != version:
            raise Conflict(
                current.version,
                {
                    "withdrawal_date": current.withdrawal_date,
                    "withdrawal_scope": current.withdrawal_scope,
                },
            )
        before = _values(current)
        current.withdrawal_date, current.withdrawal_scope = on, scope
        current.version += 1
        current.save()
        audit_entry(
            member.study,
            "consent",
            current.pk,
            UPDATE,
            current.version,
            actor,
            reason,
            before,
            _values(current),
            current.participant_id,
        ).save()
    return current


def visible_consent(member: Membership, consent_id: int) -> Consent:
    consent = Consent.objects.filter(pk=consent_id, study=member.study).first()
    if consent is None:
        raise NotFound(f"no consent {consent_id}")
    check_participant(member, consent.participant_id)
    return consent
