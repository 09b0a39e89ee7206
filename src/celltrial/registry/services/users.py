"""Users and their role and sites in a study (`celltrial user add`, the admin API); every
change of a membership is audited, and no change leaves a study without an admin."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from celltrial.registry.models import ROLES, AuditEntry, Membership, Study
from celltrial.registry.models.audit import CREATE, DELETE, UPDATE
from celltrial.registry.models.study import ADMIN
from celltrial.registry.services.access import require_role
from celltrial.registry.services.audit import MEMBERSHIPS, audit_entry
from celltrial.registry.services.errors import NotFound, Problem, Refused

CLI_USER = "celltrial user add"  # the actor of memberships added from the command line


def add_user(
    username: str,
    password: str | None,
    role: str,
    study_id: str,
    site_ids: list[str],
    actor: AbstractBaseUser | None = None,
) -> Membership:
    """Create the user (or reuse an existing one, whose password is kept) with `role` at
    `site_ids` of the study; a new user needs a password."""
    problems = []
    if role not in ROLES:
        problems.append(Problem("role", f"role must be one of {', '.join(ROLES)}", role))
    study = Study.objects.filter(study_id=study_id).first()
    if study is None:
        problems.append(Problem("study", "no such study in the registry", study_id))
    else:
        known = set(study.sites.values_list("site_id", flat=True))
        problems += [
            Problem(
                "site", f"no such site in study {study_id} (sites: {', '.join(sorted(known))})", s
            )
            for s in site_ids
            if s not in known
        ]
    user_model = get_user_model()
    existing = user_model.objects.filter(username=username).first()
    if existing is None:
        if not password:
            problems.append(Problem("password", "a new user needs a password"))
        else:
            try:
                validate_password(password, user_model(username=username))
            except ValidationError as exc:
                problems += [Problem("password", m) for m in exc.messages]
    elif study is not None and role != ADMIN:
        problems += _admin_kept(study, existing)
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        user = existing or user_model.objects.create_user(username=username, password=password)
        current = Membership.objects.filter(user=user, study=study).first()
        before = None if current is None else member_values(current)
        member, _ = Membership.objects.update_or_create(
            user=user, study=study, defaults={"role": role}
        )
        member.sites.set(study.sites.filter(site_id__in=site_ids))
        audit_membership(
            actor, member, CREATE if before is None else UPDATE, before, member_values(member)
        )
    return member


def study_members(member: Membership) -> list[Membership]:
    require_role(member, (ADMIN,), "list the members of the study")
    return list(
        Membership.objects.filter(study=member.study)
        .select_related("user")
        .prefetch_related("sites")
        .order_by("user__username")
    )


def remove_member(actor: AbstractBaseUser, member: Membership, username: str) -> dict:
    """End a user's membership of the study (their account stays); the values removed."""
    require_role(member, (ADMIN,), "remove members")
    found = (
        Membership.objects.filter(study=member.study, user__username=username)
        .select_related("user", "study")
        .first()
    )
    if found is None:
        raise NotFound(f"no member {username!r} in study {member.study.study_id}")
    problems = _admin_kept(member.study, found.user)
    if problems:
        raise Refused(problems)
    values = member_values(found)
    with transaction.atomic():
        audit_membership(actor, found, DELETE, values, None)
        found.delete()
    return values


def member_values(member: Membership) -> dict:
    sites = sorted(s.site_id for s in member.sites.all())
    return {"username": member.user.get_username(), "role": member.role, "sites": sites}


def list_memberships() -> list[Membership]:
    return list(
        Membership.objects.select_related("user", "study")
        .prefetch_related("sites")
        .order_by("user__username", "study__study_id")
    )


def _admin_kept(study: Study, leaving: AbstractBaseUser) -> list[Problem]:
    """A study keeps at least one admin: nobody else could then manage it."""
    admins = Membership.objects.filter(study=study, role=ADMIN)
    if admins.filter(user=leaving).exists() and not admins.exclude(user=leaving).exists():
        return [Problem("role", "the study's only admin cannot leave or change role")]
    return []


def audit_membership(
    actor: AbstractBaseUser | None,
    member: Membership,
    action: str,
    before: dict | None,
    after: dict | None,
) -> None:
    done = AuditEntry.objects.filter(table=MEMBERSHIPS, record_id=member.pk).count()
    entry = audit_entry(
        member.study, MEMBERSHIPS, member.pk, action, done + 1, actor, None, before, after
    )
    if actor is None:
        entry.username = CLI_USER
    entry.save()
