"""Audit history pages: a record's history (who, when, before and after, why), the
participant's, and the study's filtered by participant, user and day, with its CSV; the
API's access rules (readers only, another site's participants absent: 404). Counts come
from the example's CSV files read with the csv module (the import audits every row)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from page_flow import SMALL_STUDY

pytestmark = pytest.mark.django_db
S = "/s/small-study"
PARTICIPANT_TABLES = ("participants", "screening", "infusions", "visits", "measurements",
                      "medications", "adverse_events")  # fmt: skip


def _rows_of(pid: str) -> int:
    n = 0
    for table in PARTICIPANT_TABLES:
        with open(SMALL_STUDY / f"{table}.csv") as f:
            n += sum(r["participant_id"] == pid for r in csv.DictReader(f))
    return n


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_record_history_shows_who_when_before_after_why(login_as):
    from celltrial.registry.models import Participant

    c = login_as("cora", "coordinator")
    person = Participant.objects.get(participant_id="P01")
    from celltrial.registry.services.access import membership
    from celltrial.registry.services.writes import update_row

    actor = _user("cora")
    update_row(actor, membership(actor, "small-study"), "participants", person.pk, person.version,
               {"height_cm": 173.5}, "source document says 173.5")  # fmt: skip
    page = c.get(f"{S}/audit/participants/{person.pk}/").content.decode()
    assert "History of participants record" in page and "(P01)" in page
    assert "source document says 173.5" in page and "cora" in page
    assert "<del>172.0</del> → <ins>173.5</ins>" in page  # 172.0 in participants.csv
    assert page.index("imported from a study folder") < page.index("source document says")
    participant_page = c.get(f"{S}/p/P01/").content.decode()
    assert f"{S}/audit/participants/{person.pk}/" in participant_page  # linked from its page
    history = c.get(f"{S}/p/P01/audit/").content.decode()
    assert history.count('href="/s/small-study/audit/') >= _rows_of("P01")


def _user(name: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=name)


def test_study_trail_filters_and_csv(login_as):
    ada = login_as("ada", "admin", sites=())
    page = ada.get(f"{S}/audit/", {"participant_id": "P01"}).content.decode()
    assert f'<span id="audit-count">{_rows_of("P01")}</span>' in page
    rows = _csv(ada.get(f"{S}/audit.csv", {"participant_id": "P01"}))
    assert len(rows) == _rows_of("P01") and {r["participant_id"] for r in rows} == {"P01"}
    assert list(rows[0]) == ["id", "at", "username", "action", "table", "record_id",
                             "participant_id", "version", "reason", "before", "after"]  # fmt: skip
    with open(SMALL_STUDY / "lots.csv") as f:
        lots = sum(1 for _ in csv.DictReader(f))
    imported_rows = sum(_rows_of(p) for p in ("P01", "P02", "P03", "P04", "P05", "P06")) + lots
    everything = imported_rows + 1  # and ada's membership, added above (an admin sees it)
    assert len(_csv(ada.get(f"{S}/audit.csv"))) == everything
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    today = dt.date.today().isoformat()
    assert len(_csv(ada.get(f"{S}/audit.csv", {"since": tomorrow}))) == 0
    assert len(_csv(ada.get(f"{S}/audit.csv", {"until": today}))) == everything
    assert len(_csv(ada.get(f"{S}/audit.csv", {"username": "nobody"}))) == 0
    imported = _csv(ada.get(f"{S}/audit.csv", {"username": "celltrial registry import"}))
    assert len(imported) == imported_rows


def test_audit_access_as_the_api(login_as):
    from celltrial.registry.models import Participant

    p04 = Participant.objects.get(participant_id="P04")  # site S02
    cora = login_as("cora", "coordinator")  # site S01
    assert cora.get(f"{S}/audit/participants/{p04.pk}/").status_code == 404
    assert cora.get(f"{S}/p/P04/audit/").status_code == 404
    assert len(_csv(cora.get(f"{S}/audit.csv", {"participant_id": "P04"}))) == 0
    with open(SMALL_STUDY / "lots.csv") as f:
        lots = sum(1 for _ in csv.DictReader(f))
    mine = sum(_rows_of(p) for p in ("P01", "P02", "P03"))  # S01's participants
    assert len(_csv(cora.get(f"{S}/audit.csv"))) == mine + lots
    assert cora.get(f"{S}/audit/participants/999999/").status_code == 404
    monitor = login_as("mo", "monitor")
    assert monitor.get(f"{S}/audit/").status_code == 200
    stat = login_as("st", "statistician", sites=())
    assert stat.get(f"{S}/audit/").status_code == 403
    assert stat.get(f"{S}/audit.csv").status_code == 403
    assert cora.get("/s/other-study/audit/").status_code == 404
