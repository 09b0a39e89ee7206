"""Consent withdrawal on the pages: recorded (date, scope, reason) through consent_records,
shown on the participant page and its timeline; afterwards the forms refuse with the
service's message naming the consent (scope treatment: infusions only; scope all: every
table); a withdrawal before signing, a stale version, other sites and roles refused."""

from __future__ import annotations

import datetime as dt

import pytest
from page_flow import at, day, lot_form, panel
from test_workflow import enrol_eligible

pytestmark = pytest.mark.django_db
S = "/s/small-study"
TODAY = dt.date.today().isoformat()


def _consent(pid: str):
    from celltrial.registry.models import Consent

    return Consent.objects.get(participant_id=pid)


def _withdraw(c, pid: str, scope: str, on: str = TODAY, version: int = 1):
    url = f"{S}/p/{pid}/consent/{_consent(pid).pk}/withdraw/"
    form = {"version": version, "withdrawal_date": on, "scope": scope, "reason": "moved away"}
    return c.post(url, form)


def test_withdrawal_from_treatment_stops_infusions_only(login_as):
    c = login_as("cora", "coordinator")
    enrol_eligible(c)
    assert c.post(f"{S}/lots/new/", lot_form("L90")).status_code == 200
    page = c.get(f"{S}/p/P90/").content.decode()
    consent = _consent("P90")
    assert f"{S}/p/P90/consent/{consent.pk}/withdraw/" in page  # offered while not withdrawn
    assert _withdraw(c, "P90", "treatment").status_code == 302
    consent.refresh_from_db()
    assert (consent.withdrawal_date.isoformat(), consent.withdrawal_scope) == (TODAY, "treatment")
    page = c.get(f"{S}/p/P90/").content.decode()
    assert f"withdrawn {TODAY} (scope treatment)" in page
    assert "consent withdrawn (treatment)" in page  # the timeline's row
    infusion = {"infusion_id": "I90-1", "lot_id": "L90", "start_time": at(0), "weight_kg": "70",
                "dose_cells": "", "route": "IV"}  # fmt: skip
    body = c.post(f"{S}/p/P90/infusion/", infusion).content.decode()
    named = f"consent of P90 (form 2.1, signed {day(-25)} by Dr Lian) was withdrawn on {TODAY}"
    assert named in body and "no infusions may be entered after withdrawal" in body
    assert 'value="I90-1"' in body  # what was typed is kept
    # follow-up data are still allowed after a withdrawal from treatment
    assert c.post(f"{S}/p/P90/labs/", panel(at(0), hba1c=7.5)).status_code == 302


def test_withdrawal_of_everything_stops_every_form(login_as):
    c = login_as("cora", "coordinator")
    enrol_eligible(c)
    assert _withdraw(c, "P90", "all").status_code == 302
    body = c.post(f"{S}/p/P90/labs/", panel(at(0), hba1c=7.5)).content.decode()
    assert f"was withdrawn on {TODAY} (scope all): no measurements may be entered" in body
    med = {"drug": "metformin", "daily_dose": "500", "dose_unit": "mg", "start_date": TODAY}
    body = c.post(f"{S}/p/P90/medication/", med).content.decode()
    assert "no medications may be entered after withdrawal" in body


def test_withdrawal_refusals(login_as):
    c = login_as("cora", "coordinator")
    enrol_eligible(c)
    # before the consent was signed (day -25): beside the date, the typed values kept
    body = _withdraw(c, "P90", "all", on=day(-30)).content.decode()
    assert 'id="id_withdrawal_date-error"' in body and "before the consent was signed" in body
    assert 'value="moved away"' in body and _consent("P90").withdrawal_date is None
    assert _withdraw(c, "P90", "all").status_code == 302
    stale = _withdraw(c, "P90", "treatment", version=1).content.decode()  # now version 2
    assert "changed since (now version 2)" in stale
    assert _consent("P90").withdrawal_scope == "all"


def test_withdrawal_other_site_and_roles(login_as):
    from celltrial.registry.models import Consent

    p04 = Consent.objects.get(participant_id="P04")  # site S02
    cora = login_as("cora", "coordinator")
    assert cora.get(f"{S}/p/P04/consent/{p04.pk}/withdraw/").status_code == 404
    p01 = Consent.objects.get(participant_id="P01")
    assert cora.get(f"{S}/p/P02/consent/{p01.pk}/withdraw/").status_code == 404  # not P02's
    monitor = login_as("mo", "monitor")
    form = {"version": 1, "withdrawal_date": TODAY, "scope": "all", "reason": "x"}
    assert monitor.post(f"{S}/p/P01/consent/{p01.pk}/withdraw/", form).status_code == 403
    p01.refresh_from_db()
    assert p01.withdrawal_date is None
