"""Who sees what: a user sees the studies they are a member of and, in them, only the
participants of their sites (admins: every site). Anything else is answered as absent."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from celltrial.registry.models import CLINICAL_MODELS, Membership, Participant
from celltrial.registry.models.study import ADMIN, READERS
from celltrial.registry.services.errors import Forbidden, NotFound


def membership(user: AbstractBaseUser, study_id: str) -> Membership:
    found = (
        Membership.objects.select_related("study")
        .filter(user=user, study__study_id=study_id)
        .first()
    )
    if found is None:
        raise NotFound(f"no study {study_id!r}")
    return found


def memberships(user: AbstractBaseUser) -> QuerySet:
    return Membership.objects.select_related("study").filter(user=user)


def require_role(member: Membership, roles: tuple[str, ...], doing: str) -> None:
    if member.role not in roles:
        raise Forbidden(f"a {member.role} may not {doing} (allowed: {', '.join(roles)})")


def site_ids(member: Membership) -> list[str] | None:
    """The sites a member works at; None for an admin (every site of the study)."""
    if member.role == ADMIN:
        return None
    return list(member.sites.values_list("site_id", flat=True))


def visible_participants(member: Membership) -> QuerySet:
    rows = Participant.objects.filter(study=member.study, deleted=False)
    sites = site_ids(member)
    return rows if sites is None else rows.filter(site_id__in=sites)


def visible_rows(member: Membership, table: str, with_deleted: bool = False) -> QuerySet:
    """The rows of a table a member may read (lots belong to the whole study)."""
    require_role(member, READERS, f"read {table}")
    model = CLINICAL_MODELS[table]
    rows = model.objects.filter(study=member.study)
    if not with_deleted:
        rows = rows.filter(deleted=False)
    if table == "participants":
        sites = site_ids(member)
        return rows if sites is None else rows.filter(site_id__in=sites)
    if table == "lots":
        return rows
    ids = visible_participants(member).values("participant_id")
    return rows.filter(participant_id__in=ids)


def check_participant(member: Membership, participant_id: object) -> None:
    """A participant id of another site (or none) is answered as not found."""
    if not visible_participants(member).filter(participant_id=participant_id).exists():
        raise NotFound(f"no participant {participant_id!r}")


def check_site(member: Membership, site_id: object) -> None:
    sites = site_ids(member)
    known = member.study.sites.filter(site_id=site_id).exists()
    if not known or (sites is not None and site_id not in sites):
        raise NotFound(f"no site {site_id!r}")
