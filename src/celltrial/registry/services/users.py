"""Users and their role and sites in a study (`celltrial user add`, the admin API)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from celltrial.registry.models import ROLES, Membership, Study
from celltrial.registry.services.errors import Problem, Refused


def add_user(
    username: str, password: str, role: str, study_id: str, site_ids: list[str]
) -> Membership:
    """Create the user (or reuse an existing one) with `role` at `site_ids` of the study."""
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
        try:
            validate_password(password, user_model(username=username))
        except ValidationError as exc:
            problems += [Problem("password", m) for m in exc.messages]
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        user = existing or user_model.objects.create_user(username=username, password=password)
        member, _ = Membership.objects.update_or_create(
            user=user, study=study, defaults={"role": role}
        )
        member.sites.set(study.sites.filter(site_id__in=site_ids))
    return member


def list_memberships() -> list[Membership]:
    return list(
        Membership.objects.select_related("user", "study")
        .prefetch_related("sites")
        .order_by("user__username", "study__study_id")
    )
