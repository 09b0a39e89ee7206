"""Registry tests run on a temporary data folder with SQLite, or on the PostgreSQL
database DATABASE_URL names (.ci/run); pytest-django sets Django up from this env."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
