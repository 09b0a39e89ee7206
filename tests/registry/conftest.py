"""Registry tests run on a temporary data folder with SQLite, or on the PostgreSQL
database DATABASE_URL names (.ci/run); pytest-django sets Django up from this env."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import django
import pytest

os.environ.setdefault("CELLTRIAL_DATA_DIR", tempfile.mkdtemp(prefix="celltrial-test-"))
os.environ.setdefault("CELLTRIAL_SECRET_KEY", "test-only-secret-key-not-for-production-use")
os.environ["DJANGO_SETTINGS_MODULE"] = "celltrial.web.settings"
django.setup()  # before the test modules import the models

ROOT = Path(__file__).resolve().parents[2]
SMALL_STUDY = ROOT / "examples" / "small-study"
BROKEN_STUDY = ROOT / "examples" / "broken-study"
PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def small_study_dir() -> Path:
    return SMALL_STUDY


@pytest.fixture
def small_study(db):
    from celltrial.data import read_study
    from celltrial.registry.services.importing import store_study

    return store_study(read_study(SMALL_STUDY))


@pytest.fixture
def make_user(db):
    from celltrial.registry.services.users import add_user

    def make(name: str, role: str, study_id: str = "small-study", sites=("S01",)):
        return add_user(name, PASSWORD, role, study_id, list(sites)).user

    return make


class Api:
    """A Django test client that sends a user's bearer token and JSON bodies."""

    def __init__(self, client, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, body: dict | None = None, **params):
        query = f"?{urlencode(params)}" if params else ""
        return self.client.post(
            path + query, json.dumps(body or {}), "application/json", headers=self.headers
        )

    def patch(self, path: str, body: dict):
        return self.client.patch(path, json.dumps(body), "application/json", headers=self.headers)

    def delete(self, path: str, **params):
        return self.client.delete(f"{path}?{urlencode(params)}", headers=self.headers)


@pytest.fixture
def api_as(client, make_user):
    """api_as(name, role, sites=...) -> an Api for a new user of small-study."""

    def login(name: str, role: str, sites=("S01",)) -> Api:
        make_user(name, role, sites=sites)
        answer = client.post(
            "/api/auth/token",
            json.dumps({"username": name, "password": PASSWORD}),
            "application/json",
        )
        assert answer.status_code == 200, answer.content
        return Api(client, answer.json()["token"])

    return login


@pytest.fixture(scope="session")
def password() -> str:
    return PASSWORD


@pytest.fixture(scope="session")
def registry_server(tmp_path_factory):
    """`celltrial serve` on a new data folder: small-study, a coordinator of each site,
    a monitor of S01 and an admin (password PASSWORD)."""
    from live import live_server

    users = [
        ("coord1", "coordinator", ["S01"]),
        ("coord2", "coordinator", ["S02"]),
        ("monitor1", "monitor", ["S01"]),
        ("admin1", "admin", []),
    ]
    with live_server(tmp_path_factory.mktemp("live"), SMALL_STUDY, users, PASSWORD) as server:
        yield server
