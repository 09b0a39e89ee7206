"""Studies and their sites made in the registry by an admin (the API), audited; a study
from a folder comes through `importing`, which checks its id by the same rule."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import yaml
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from celltrial.protocol import parse_protocol
from celltrial.protocol.loader import ProtocolError, shipped_protocols
from celltrial.registry.models import Membership, Site, Study
from celltrial.registry.models.audit import CREATE
from celltrial.registry.models.study import ADMIN
from celltrial.registry.services.access import require_role
from celltrial.registry.services.audit import audit_entry
from celltrial.registry.services.errors import Forbidden, Problem, Refused
from celltrial.registry.services.users import audit_membership, member_values

# the id names the exported folder and sits in URLs (/api/studies/ID/...): no path syntax
STUDY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
UPLOADED_PROTOCOL = "protocol.yaml"  # the file the export writes beside study.yaml
MAX_DEPTH = 20  # the shipped protocols nest 4 levels deep


@dataclass(frozen=True)
class NewSite:
    site_id: str
    name: str | None = None


@dataclass(frozen=True)
class NewStudy:
    study_id: str
    title: str | None
    protocol: str | None  # a shipped protocol's id, or None with protocol_yaml
    protocol_yaml: str | None  # a protocol file's text
    sites: list[NewSite]


def study_id_problems(study_id: str) -> list[Problem]:
    """A new study's id: usable as a folder name and in a URL, and free."""
    if not STUDY_ID.fullmatch(study_id):
        rule = "a study id is 1-100 letters, digits, '.', '_' or '-', not starting with a sign"
        return [Problem("study_id", rule, study_id)]
    return taken_problems(study_id)


def taken_problems(study_id: str) -> list[Problem]:
    if Study.objects.filter(study_id=study_id).exists():
        return [Problem("study_id", "a study with this id is already in the registry", study_id)]
    return []


def create_study(actor: AbstractBaseUser, new: NewStudy) -> Membership:
    """The study, its sites and the creator as its admin (every site), each audited.
    Only an admin of some study may create one (there is no other registry-wide role)."""
    if not Membership.objects.filter(user=actor, role=ADMIN).exists():
        raise Forbidden("only an admin (of any study) may create a study")
    problems = study_id_problems(new.study_id)
    problems += _protocol_problems(new.protocol, new.protocol_yaml)
    problems += _site_problems(new.sites, set())
    if problems:
        raise Refused(problems)
    try:
        with transaction.atomic():
            return _stored(actor, new)
    except IntegrityError:  # another admin took the same id at the same moment
        raise Refused(taken_problems(new.study_id)) from None


def _stored(actor: AbstractBaseUser, new: NewStudy) -> Membership:
    uploaded = new.protocol_yaml is not None
    study = Study.objects.create(
        study_id=new.study_id,
        title=new.title,
        protocol=UPLOADED_PROTOCOL if uploaded else new.protocol,
        protocol_yaml=new.protocol_yaml,
        deid_secret=secrets.token_hex(32),
    )
    after = {"study_id": new.study_id, "title": new.title, "protocol": study.protocol}
    if uploaded:
        after["protocol_yaml"] = new.protocol_yaml
    audit_entry(study, "studies", study.pk, CREATE, 1, actor, None, None, after).save()
    for site in new.sites:
        _store_site(actor, study, site)
    member = Membership.objects.create(user=actor, study=study, role=ADMIN)
    audit_membership(actor, member, CREATE, None, member_values(member))
    return member


def add_site(actor: AbstractBaseUser, member: Membership, site: NewSite) -> Site:
    require_role(member, (ADMIN,), "add sites")
    known = set(member.study.sites.values_list("site_id", flat=True))
    problems = _site_problems([site], known)
    if problems:
        raise Refused(problems)
    try:
        with transaction.atomic():
            return _store_site(actor, member.study, site)
    except IntegrityError:  # another admin added the same site at the same moment
        raise Refused(_site_problems([site], {site.site_id})) from None


def _store_site(actor: AbstractBaseUser, study: Study, site: NewSite) -> Site:
    stored = Site.objects.create(study=study, site_id=site.site_id, name=site.name)
    after = {"site_id": site.site_id, "name": site.name}
    audit_entry(study, "sites", stored.pk, CREATE, 1, actor, None, None, after).save()
    return stored


def _protocol_problems(protocol: str | None, protocol_yaml: str | None) -> list[Problem]:
    """A shipped protocol by name, or a YAML checked by the loader `celltrial protocol
    check` uses; never a path on the server."""
    if protocol is not None and protocol_yaml is not None:
        return [Problem("protocol", "give a shipped protocol or a protocol_yaml, not both")]
    if protocol is not None and protocol not in shipped_protocols():
        known = ", ".join(shipped_protocols())
        return [
            Problem("protocol", f"no shipped protocol of this name (shipped: {known})", protocol)
        ]
    if protocol_yaml is not None:
        shape = _shape_problem(protocol_yaml)
        if shape:
            return [shape]
        try:
            parse_protocol(protocol_yaml, UPLOADED_PROTOCOL)
        except ProtocolError as exc:
            return [Problem("protocol_yaml", str(issue)) for issue in exc.issues]
    return []


def _shape_problem(text: str) -> Problem | None:
    """What the loader would take exponential time or deep recursion on: aliases (one
    small file can name a node billions of times) and nesting deeper than any protocol."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):  # a stream: linear time
            if isinstance(event, yaml.AliasEvent):
                return Problem("protocol_yaml", "YAML aliases (*name) are not accepted here")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return Problem("protocol_yaml", f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None  # the loader reports the syntax error with its line
    return None


def _site_problems(sites: list[NewSite], known: set[str]) -> list[Problem]:
    problems, seen = [], set(known)
    for site in sites:
        if not site.site_id.strip():
            problems.append(Problem("site_id", "a site id cannot be empty", site.site_id))
        elif site.site_id in seen:
            problems.append(Problem("site_id", "this site is already in the study", site.site_id))
        seen.add(site.site_id)
    return problems
