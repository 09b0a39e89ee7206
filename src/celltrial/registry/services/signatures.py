"""An investigator's electronic signature of a participant's forms (21 CFR 11.50, 11.200:
the password re-entered, the meaning recorded); signed forms are locked until an
investigator unlocks them with a reason. Both are in the audit trail."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from celltrial.registry.models import Membership, Signature, Study
from celltrial.registry.models.audit import CREATE, UPDATE
from celltrial.registry.models.study import INVESTIGATOR
from celltrial.registry.services.access import check_participant, require_role
from celltrial.registry.services.audit import audit_entry
from celltrial.registry.services.errors import NotFound, Problem, Refused

SIGNERS = (INVESTIGATOR,)  # issue 12: an investigator signs and unlocks
# meanings offered on the form (21 CFR 11.50(a)(3): review, approval, responsibility...)
MEANINGS = (
    "I have reviewed these data and confirm they are accurate and complete",
    "I approve these data as the responsible investigator",
)


def active_signature(study: Study, participant_id: str) -> Signature | None:
    return (
        Signature.objects.filter(
            study=study, participant_id=participant_id, unlocked_at__isnull=True
        )
        .order_by("-signed_at")
        .first()
    )


def lock_problem(study: Study, participant_id: str) -> Problem | None:
    """Why a signed participant's forms refuse a change (None when they are not locked)."""
    signed = active_signature(study, participant_id)
    if signed is None:
        return None
    return Problem(
        "participant_id",
        f"the forms of {participant_id} were signed by {signed.signed_name} on "
        f"{signed.signed_at:%Y-%m-%d %H:%M} and are locked: an investigator must unlock them "
        "with a reason",
        participant_id,
    )


def sign(
    actor: AbstractBaseUser, member: Membership, participant_id: str, password: str, meaning: str
) -> Signature:
    require_role(member, SIGNERS, "sign forms")
    check_participant(member, participant_id)
    problems = []
    if not actor.check_password(password or ""):
        problems.append(Problem("password", "the password is not right"))
    if not (meaning or "").strip():
        problems.append(Problem("meaning", "the meaning of the signature is required"))
    if active_signature(member.study, participant_id) is not None:
        problems.append(Problem("participant_id", "the forms are already signed", participant_id))
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        signature = Signature.objects.create(
            study=member.study,
            participant_id=participant_id,
            meaning=meaning.strip(),
            signed_by=actor,
            signed_name=actor.get_full_name() or actor.get_username(),
            signed_at=dt.datetime.now(),
        )
        audit_entry(
            member.study,
            "signatures",
            signature.pk,
            CREATE,
            1,
            actor,
            signature.meaning,
            None,
            _values(signature),
            participant_id,
        ).save()
    return signature


def unlock(
    actor: AbstractBaseUser, member: Membership, participant_id: str, reason: str
) -> Signature:
    require_role(member, SIGNERS, "unlock signed forms")
    check_participant(member, participant_id)
    if not (reason or "").strip():
        raise Refused([Problem("reason", "a reason is required to unlock signed forms")])
    with transaction.atomic():
        signature = active_signature(member.study, participant_id)
        if signature is None:
            raise NotFound(f"no signature of {participant_id} to unlock")
        before = _values(signature)
        signature.unlocked_by, signature.unlocked_at = actor, dt.datetime.now()
        signature.unlock_reason = reason.strip()
        signature.save()
        audit_entry(
            member.study,
            "signatures",
            signature.pk,
            UPDATE,
            2,
            actor,
            signature.unlock_reason,
            before,
            _values(signature),
            participant_id,
        ).save()
    return signature


def _values(s: Signature) -> dict:
    return {
        "participant_id": s.participant_id,
        "meaning": s.meaning,
        "signed_name": s.signed_name,
        "signed_at": s.signed_at,
        "unlocked_at": s.unlocked_at,
        "unlock_reason": s.unlock_reason,
    }
