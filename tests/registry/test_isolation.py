"""Every route of the API that names an object, read from the OpenAPI document so that a
new route is covered without editing this file: a user of another site (or study) gets
404 for that object, whatever the method, and nothing in the registry changes."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from api_document import DOCUMENT, example, operations
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client

from celltrial.registry.models import CLINICAL_MODELS, Consent, DataQuery, Lot, Study
from celltrial.web.api.tables import PATHS

OPERATIONS = [(method, path) for method, path in operations() if "{" in path]
TABLE_AT = {segment: table for table, segment in PATHS.items()}  # "adverse-events" -> table
OTHER_STUDY = "other-study"
MY_SITE, OTHER_SITE = "S01", "S02"  # small-study: P01-P03 at S01, P04-P06 at S02


@pytest.fixture
def two_studies(small_study, make_user):
    """small-study, a copy of it as another study with its own admin, and a data query on
    a participant of each site."""
    from celltrial.data import read_study
    from celltrial.registry.services.access import membership
    from celltrial.registry.services.data_queries import open_query
    from celltrial.registry.services.importing import store_study
    from conftest import SMALL_STUDY

    data = read_study(SMALL_STUDY)
    store_study(data.__class__(replace(data.meta, study_id=OTHER_STUDY), **data.tables()))
    make_user("other-admin", "admin", OTHER_STUDY, sites=())
    admin = make_user("query-admin", "admin", sites=())
    for pid in ("P01", "P04"):
        query = {"participant_id": pid, "table": "visits", "text": "date?"}
        open_query(admin, membership(admin, "small-study"), query)


def obj_of(path: str, site: str):
    """The object a route names: one of `site` in small-study, or of another study for
    what belongs to a whole study (lots, the study itself)."""
    segment = path.split("/")[2]
    own = site == MY_SITE
    participants = CLINICAL_MODELS["participants"].objects.filter(
        study__study_id="small-study", site_id=site
    )
    of_site = {"participant_id__in": participants.values("participant_id")}
    if segment == "lots":
        return Lot.objects.filter(study__study_id="small-study" if own else OTHER_STUDY).first()
    if segment in TABLE_AT:
        model = CLINICAL_MODELS[TABLE_AT[segment]]
        return model.objects.filter(study__study_id="small-study", **of_site).first()
    if segment == "consents":
        return Consent.objects.filter(study__study_id="small-study", **of_site).first()
    if segment == "queries":
        return DataQuery.objects.filter(study__study_id="small-study", **of_site).first()
    if segment == "studies":
        return Study.objects.get(study_id="small-study" if own else OTHER_STUDY)
    pytest.fail(f"{path}: tell obj_of() which object this route acts on")


def path_values(path: str, obj, user: str) -> dict:
    names = re.findall(r"{(\w+)}", path)
    values = {}
    for name in names:
        if name == "study_id":
            values[name] = obj.study_id
        elif name == "username":  # a member of the other study / the user themself
            values[name] = "other-admin" if obj.study_id == OTHER_STUDY else user
        elif name.endswith("_id"):
            values[name] = obj.pk
        else:
            pytest.fail(f"{path}: tell path_values() what {{{name}}} is")
    return values


def request(client: Client, token: str, method: str, path: str, obj, user: str):
    operation = DOCUMENT["paths"][path][method.lower()]
    url = path.format(**path_values(path, obj, user))
    query = {
        p["name"]: example(p["schema"], p["name"], obj)
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    data = json.dumps(example(body["schema"], "", obj)) if body else None
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.generic(
        method,
        url,
        data or "",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def registry_state(obj) -> tuple:
    obj.refresh_from_db()
    fields = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    counts = {m.__name__: m.objects.count() for m in apps.get_app_config("registry").get_models()}
    return fields, counts, get_user_model().objects.count()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Django's default hasher takes a good part of a second a password; what is tried
    here is who sees what, not the hashing (tests/registry/test_api.py tries that)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_another_sites_object_is_absent(two_studies, api_as, client, method, path):
    users = {"ana": api_as("ana", "coordinator"), "mo": api_as("mo", "monitor")}
    theirs, mine = obj_of(path, OTHER_SITE), obj_of(path, MY_SITE)
    assert theirs is not None and mine is not None, f"{path}: no object to try"
    for user, api in users.items():
        token = api.headers["Authorization"].split()[1]
        before = registry_state(theirs)
        answer = request(client, token, method, path, theirs, user)
        assert answer.status_code == 404, (user, answer.status_code, answer.content[:300])
        assert "detail" in answer.json()  # the route's own answer, not an unknown URL
        assert registry_state(theirs) == before, user
    # the same request on an object of the user's own site does reach the object
    answer = request(client, token, method, path, mine, "mo")
    assert answer.status_code != 404, answer.content[:300]
