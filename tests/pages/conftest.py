"""Page tests: Django's test client on a temporary data folder (SQLite) with the small
example study imported, and users of both sites logged in through the login page."""

from __future__ import annotations

import os
import tempfile

import django
import pytest

os.environ.setdefault("CELLTRIAL_DATA_DIR", tempfile.mkdtemp(prefix="celltrial-test-"))
os.environ.setdefault("CELLTRIAL_SECRET_KEY", "test-only-secret-key-not-for-production-use")
os.environ["DJANGO_SETTINGS_MODULE"] = "celltrial.web.settings"
django.setup()

from page_flow import PASSWORD, SMALL_STUDY  # noqa: E402 (after Django is set up)


@pytest.fixture
def small_study(db):
    from celltrial.data import read_study
    from celltrial.registry.services.importing import store_study

    return store_study(read_study(SMALL_STUDY))


@pytest.fixture
def login_as(client, small_study):
    """login_as(name, role, sites) -> the test client, logged in through /login/."""
    from celltrial.registry.services.users import add_user

    def login(name: str, role: str, sites=("S01",), email: str = ""):
        member = add_user(name, PASSWORD, role, "small-study", list(sites))
        if email:
            member.user.email = email
            member.user.save()
        answer = client.post("/login/", {"username": name, "password": PASSWORD})
        assert answer.status_code == 302, answer.content.decode()[:2000]
        return client

    return login


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached page parts are keyed by the latest audit id, which rolled-back tests reuse."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
