"""Consent rules: no clinical data for a participant before consent or after withdrawal;
what was collected before withdrawal stays (nothing is deleted here)."""

from __future__ import annotations

import datetime as dt

from celltrial.registry.models import Consent, Study
from celltrial.registry.models.consent import WITHDRAW_ALL, WITHDRAW_TREATMENT
from celltrial.registry.services.errors import Problem

TREATMENT_TABLES = ("infusions",)  # what a withdrawal from treatment only stops


def describe(consent: Consent) -> str:
    return (
        f"consent of {consent.participant_id} (form {consent.form_version}, signed "
        f"{consent.date_signed.isoformat()} by {consent.signed_by})"
    )


def consent_problem(
    study: Study, participant_id: str, table: str, today: dt.date | None = None
) -> Problem | None:
    """Why data of `table` may not be entered for the participant today, or None."""
    today = today or dt.date.today()
    consents = list(
        Consent.objects.filter(study=study, participant_id=participant_id).order_by(
            "-date_signed", "-id"
        )
    )
    if not consents:
        return Problem(
            "participant_id",
            f"no consent recorded for participant {participant_id}: record it first",
            participant_id,
        )
    latest = consents[0]
    if latest.date_signed > today:
        return Problem(
            "participant_id",
            f"{describe(latest)} is dated after today: no data before consent",
            participant_id,
        )
    withdrawn = latest.withdrawal_date is not None and latest.withdrawal_date <= today
    stops = latest.withdrawal_scope == WITHDRAW_ALL or (
        latest.withdrawal_scope == WITHDRAW_TREATMENT and table in TREATMENT_TABLES
    )
    if withdrawn and stops:
        return Problem(
            "participant_id",
            f"{describe(latest)} was withdrawn on {latest.withdrawal_date.isoformat()} "
            f"(scope {latest.withdrawal_scope}): no {table} may be entered after withdrawal",
            participant_id,
        )
    return None
