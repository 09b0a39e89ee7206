"""Every route that takes a JSON body, read from the OpenAPI document: a body with a field
the route does not know is refused with 422 naming that field, and nothing is stored.
The document says so too: no request schema, nested ones included, takes extra fields."""

from __future__ import annotations

import json
import re

import pytest
from api_document import DOCUMENT, example, operations, resolved
from django.apps import apps
from django.contrib.auth import get_user_model

from celltrial.registry.models import CLINICAL_MODELS, Consent, DataQuery, Study
from celltrial.registry.services.access import membership
from celltrial.registry.services.data_queries import open_query
from celltrial.web.api.tables import PATHS

TABLE_AT = {segment: table for table, segment in PATHS.items()}
WRITES = [
    (method, path)
    for method, path in operations()
    if "application/json"
    in DOCUMENT["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
]


def body_schema(method: str, path: str) -> dict:
    operation = DOCUMENT["paths"][path][method.lower()]
    return operation["requestBody"]["content"]["application/json"]["schema"]


def object_schemas(schema: dict, seen: set[str]) -> list[tuple[str, dict]]:
    """(name, schema) of every object schema a request body holds, nested ones too."""
    name = schema.get("$ref", "").split("/")[-1]
    if name in seen:
        return []
    seen.add(name)
    schema = resolved(schema)
    found = [(name or schema.get("title", "?"), schema)] if schema.get("type") == "object" else []
    children = list(schema.get("properties", {}).values()) + schema.get("anyOf", [])
    children += [schema["items"]] if "items" in schema else []
    for child in children:
        found += object_schemas(child, seen)
    return found


def own_object(path: str):
    """An object of the admin's study for a route that names one."""
    segment = path.split("/")[2]
    if segment in TABLE_AT:
        return CLINICAL_MODELS[TABLE_AT[segment]].objects.filter(deleted=False).first()
    models = {"consents": Consent, "queries": DataQuery}
    if segment in models:
        return models[segment].objects.first()
    return Study.objects.get(study_id="small-study")


def stored_counts() -> dict:
    return {m.__name__: m.objects.count() for m in apps.get_app_config("registry").get_models()}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The default hasher costs a good part of a second a password; not what is tried here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_an_unknown_field_is_422_naming_it(small_study, api_as, client, method, path):
    for name, schema in object_schemas(body_schema(method, path), set()):
        assert schema.get("additionalProperties") is False, f"{name} takes unknown fields"
    admin = api_as("ad", "admin", sites=())
    user = get_user_model().objects.get(username="ad")
    query = {"participant_id": "P01", "table": "visits", "text": "date?"}
    open_query(user, membership(user, "small-study"), query)  # one to answer
    obj = own_object(path) if "{" in path else None
    values = {"study_id": "small-study", "username": "ad"}
    url = re.sub(r"{(\w+)}", lambda m: str(values.get(m[1], getattr(obj, "pk", None))), path)
    body = example(body_schema(method, path), "", obj) | {"colour": "red"}
    before = stored_counts()
    answer = client.generic(
        method, url, json.dumps(body), content_type="application/json", headers=admin.headers
    )
    assert answer.status_code == 422, answer.content[:300]
    assert {"field": "colour", "message": "Extra inputs are not permitted", "value": "red"} in (
        answer.json()["detail"]
    )
    assert stored_counts() == before
