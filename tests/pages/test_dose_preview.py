"""The infusion form's live dose preview (htmx): cells per kg and the protocol's verdict
as the coordinator types, from the dosing service. lian2022: 1e6 cells/kg +- 10 %
(Lian 2022, L152), so 70 kg asks 7.0e7 cells, accepted from 6.3e7 to 7.7e7."""

from __future__ import annotations

import pytest
from page_flow import at, lot_form
from test_workflow import enrol_eligible

pytestmark = pytest.mark.django_db
S = "/s/small-study"
HX = {"HX-Request": "true"}


def _preview(c, pid: str = "P90", **typed) -> str:
    query = {"lot_id": "L90", "start_time": at(0), "weight_kg": "70", "dose_cells": "", **typed}
    return c.get(f"{S}/p/{pid}/infusion/dose/", query, headers=HX).content.decode()


def test_dose_per_kg_and_verdict_as_typed(login_as):
    c = login_as("cora", "coordinator")
    enrol_eligible(c)
    assert c.post(f"{S}/lots/new/", lot_form("L90")).status_code == 200
    form = c.get(f"{S}/p/P90/infusion/").content.decode()
    assert 'hx-get="/s/small-study/p/P90/infusion/dose/"' in form and 'id="dose-preview"' in form
    # 7.2e7 / 70 kg = 1.0286e6 cells/kg, within 10 % of 1e6
    body = _preview(c, dose_cells="7.2e7")
    assert "1.03e+06 cells/kg" in body and "accepted by the protocol" in body
    assert "<html" not in body  # a fragment for htmx
    # empty: the protocol's own dose, 70 x 1e6 = 7e7 cells = 1e6 cells/kg
    body = _preview(c)
    assert "7e+07 cells" in body and "1e+06 cells/kg" in body and "accepted" in body
    # 2e8 / 70 = 2.857e6 cells/kg: outside 7e7 +- 10 %, refused with the reason
    body = _preview(c, dose_cells="2e8")
    assert "2.86e+06 cells/kg" in body and "not accepted" in body
    assert "is not within 10" in body
    # 6.2e7 is just below 6.3e7 (7e7 - 10 %); 6.4e7 just inside
    assert "not accepted" in _preview(c, dose_cells="6.2e7")
    assert "accepted by the protocol" in _preview(c, dose_cells="6.4e7")
    assert "weight_kg missing" in _preview(c, weight_kg="")
    assert "choose a released lot" in _preview(c, lot_id="")
    assert "weight_kg: Enter a number." in _preview(c, weight_kg="seventy")


def test_expired_lot_refused_in_the_preview(login_as):
    c = login_as("cora", "coordinator")
    # L1901 of the example expired on 2019-08-20 (lots.csv): lot release refuses it today
    body = _preview(c, pid="P01", lot_id="L1901")
    assert "not accepted" in body and "expir" in body


def test_preview_other_site_and_roles(login_as):
    cora = login_as("cora", "coordinator")
    assert cora.get(f"{S}/p/P04/infusion/dose/", {"lot_id": "L1901"}).status_code == 404
    stat = login_as("st", "statistician", sites=())
    assert stat.get(f"{S}/p/P01/infusion/dose/", {"lot_id": "L1901"}).status_code == 403
