"""Schemathesis (property-based, from /api/openapi.json) against a running server, as an
admin: no request it generates, valid or not, gets a server error or an answer that
breaks the documented schema. Bounded: a few examples per operation.

The document is read in this process (the same code the server runs; a test checks the
server serves the same) because schemathesis needs it when the tests are collected."""

from __future__ import annotations

import json

import httpx
import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 4  # per operation and generation mode: ~40 operations, well under a minute


DOCUMENT = json.loads(Client(HTTP_HOST="localhost").get("/api/openapi.json").content)
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_server_serves_this_document(registry_server):
    assert httpx.get(f"{registry_server.url}/api/openapi.json").json() == DOCUMENT


@pytest.fixture(scope="session")
def admin_headers(registry_server, password):
    return {"Authorization": f"Bearer {registry_server.token('admin1', password)}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_server_error_and_no_schema_violation(case, admin_headers, registry_server):
    case.headers = {**(case.headers or {}), **admin_headers}
    case.call_and_validate(
        base_url=registry_server.url,
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
            content_type_conformance,
        ],
    )
