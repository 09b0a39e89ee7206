"""The issue's scenario in Chromium: a coordinator registers, consents, screens (the
eligibility updating in place), records three infusions and the visit labs; an implausible
HbA1c raises an alert the investigator sees and acknowledges; a monitor's query is answered;
the investigator signs and the forms lock; the other site's coordinator finds nothing; a
bad value is shown beside its field with the other values kept."""

from __future__ import annotations

import re

import pytest
from page_flow import PASSWORD, SMALL_STUDY, at, day, lot_form
from playwright.sync_api import expect

from celltrial.protocol import load_protocol

S = "/s/small-study"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def study(transactional_db):

    from celltrial.data import read_study
    from celltrial.registry.services.importing import store_study
    from celltrial.registry.services.users import add_user

    store_study(read_study(SMALL_STUDY))
    users = [("cora", "coordinator", "S01"), ("ivy", "investigator", "S01"),
             ("mona", "monitor", "S01"), ("otto", "coordinator", "S02")]  # fmt: skip
    for name, role, site in users:
        add_user(name, PASSWORD, role, "small-study", [site])


def login(page, name: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="small-study: dashboard")).to_be_visible()


def fill(page, values: dict[str, str]) -> None:
    """Fill form fields by id (id_<name>): selects by value, the rest typed."""
    for name, value in values.items():
        field = page.locator(f"#id_{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def save(page) -> None:
    page.get_by_role("button", name=re.compile("^Save")).click()


def test_trial_in_the_browser(study, open_page, shot):
    page = open_page()
    login(page, "cora")
    shot(page, "dashboard")
    page.goto(f"{S}/participants/new/")
    fill(page, {"participant_id": "P90", "site_id": "S01", "sex": "F", "birth_date": "1970-05-01",
                "enrollment_date": day(-20), "height_cm": "165", "status": "enrolled"})  # fmt: skip
    save(page)
    expect(page.get_by_role("heading", name="Participant P90")).to_be_visible()
    page.get_by_role("link", name="Consent").click()
    fill(page, {"form_version": "2.1", "date_signed": day(-25), "signed_by": "Dr Lian"})
    save(page)
    page.get_by_role("link", name="Medication").click()
    fill(page, {"drug": "metformin", "atc_code": "A10BA02", "daily_dose": "1000",
                "dose_unit": "mg", "start_date": "2015-01-01"})  # fmt: skip
    save(page)
    page.get_by_role("link", name="Visit labs").click()
    page.locator("#id_time").fill(at(-21))
    for analyte, value in {"hba1c": "8.0", "gad_ab": "1", "sbp": "130", "dbp": "80"}.items():
        page.locator(f"#id_value_{analyte}").fill(value)
    save(page)

    # screening: the eligibility of every criterion is recomputed as the checklist is filled
    page.get_by_role("link", name="Screening").click()
    expect(page.locator("#eligible")).to_have_text("not eligible")
    checklist = [c.id for c in load_protocol("lian2022").eligibility if c.check == "checklist"]
    for cid in checklist:
        page.locator(f"#met_{cid}").select_option("true")
    expect(page.locator("#eligible")).to_have_text("eligible")
    shot(page, "screening")
    save(page)

    page.goto(f"{S}/lots/new/")
    fill(page, lot_form("L90"))
    save(page)
    expect(page.locator("#release")).to_contain_text("released")

    # a dose outside the protocol: refused beside the field, the other values kept
    page.goto(f"{S}/p/P90/infusion/")
    fill(page, {"infusion_id": "I90-1", "lot_id": "L90", "start_time": at(-14),
                "weight_kg": "70", "dose_cells": "2e8"})  # fmt: skip
    save(page)
    expect(page.locator("#id_dose_cells-error")).to_be_visible()
    expect(page.locator("#id_infusion_id")).to_have_value("I90-1")
    expect(page.locator("#id_weight_kg")).to_have_value("70")
    shot(page, "infusion-refused")
    for n, d in enumerate((-14, -7, 0), start=1):
        page.goto(f"{S}/p/P90/infusion/")
        fill(page, {"infusion_id": f"I90-{n}", "lot_id": "L90", "start_time": at(d),
                    "weight_kg": "70"})  # fmt: skip
        save(page)
        expect(page.get_by_role("heading", name="Participant P90")).to_be_visible()

    # visit labs: HbA1c 19 % is implausible (warning beside the field), then an alert
    page.get_by_role("link", name="Visit labs").click()
    page.locator("#id_time").fill(at(0, 11))
    page.locator("#id_value_hba1c").fill("19")
    expect(page.locator("#check-hba1c .warning")).to_contain_text("plausible range")
    page.locator("#id_value_fpg").fill("7.2")
    shot(page, "labs")
    save(page)
    expect(page.locator("#timeline")).to_contain_text("infusion 3 of lot L90")
    shot(page, "participant")

    investigator = open_page()
    login(investigator, "ivy")
    expect(investigator.locator("#alert-badge")).to_have_text("1 alert")
    investigator.locator("#alert-badge").click()
    expect(investigator.locator("#alerts")).to_contain_text(
        "Haemoglobin A1c (NGSP) 19 % outside the plausible range 4-16"
    )
    shot(investigator, "alerts")
    investigator.get_by_role("button", name="Acknowledge").click()
    expect(investigator.locator("#alerts")).to_contain_text("No alert awaits you.")
    expect(investigator.locator("#alert-badge")).to_have_count(0)

    monitor = open_page()
    login(monitor, "mona")
    monitor.goto(f"{S}/p/P90/query/?field=height_cm")
    fill(monitor, {"text": "165 cm? please check the source"})
    save(monitor)
    expect(monitor.locator("#queries")).to_contain_text("open")

    page.goto(f"{S}/p/P90/")
    page.locator("#queries a").first.click()
    page.get_by_label("Answer").fill("source document says 165 cm")
    page.get_by_role("button", name="Answer").click()
    expect(page.locator("#queries")).to_contain_text("answered")

    investigator.goto(f"{S}/p/P90/sign/")
    fill(investigator, {"meaning": "I approve these data as the responsible investigator",
                        "password": PASSWORD})  # fmt: skip
    save(investigator)
    expect(investigator.locator("#locked")).to_contain_text("locked")
    page.goto(f"{S}/p/P90/medication/")
    fill(page, {"drug": "acarbose", "start_date": day(-1)})
    save(page)
    expect(page.get_by_role("alert")).to_contain_text("are locked")

    other = open_page()
    login(other, "otto")
    other.goto(f"{S}/participants/")
    other.get_by_label("Search id or arm").fill("P90")
    expect(other.locator("#rows")).to_contain_text("No participant found.")
    answer = other.goto(f"{S}/p/P90/")
    assert answer is not None and answer.status == 404


def test_withdrawal_dose_preview_and_audit_in_the_browser(study, open_page, shot):
    """A withdrawal of consent, then a refused write naming the consent; the infusion form's
    dose per kg as it is typed (lian2022: 1e6 cells/kg +- 10 %: 70 kg asks 7e7 cells); the
    consent's history and the study's audit trail filtered by user."""
    page = open_page()
    login(page, "cora")
    page.goto(f"{S}/p/P01/")
    page.get_by_role("link", name="Record a withdrawal").click()
    fill(page, {"withdrawal_date": day(0), "scope": "all", "reason": "moved abroad"})
    shot(page, "withdrawal")
    save(page)
    expect(page.get_by_role("heading", name="Participant P01")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("consent withdrawn (all)")
    shot(page, "participant-withdrawn")
    page.get_by_role("link", name="Visit labs").click()
    page.locator("#id_time").fill(at(0))
    page.locator("#id_value_hba1c").fill("7.1")
    save(page)
    expect(page.get_by_role("alert")).to_contain_text(f"was withdrawn on {day(0)} (scope all)")
    expect(page.locator("#id_value_hba1c")).to_have_value("7.1")
    shot(page, "labs-refused-after-withdrawal")

    page.goto(f"{S}/lots/new/")
    fill(page, lot_form("L90"))
    save(page)
    page.goto(f"{S}/p/P02/infusion/")
    fill(page, {"lot_id": "L90", "start_time": at(0), "weight_kg": "70", "dose_cells": "2e8"})
    # 2e8 / 70 kg = 2.86e6 cells/kg, outside 7e7 +- 10 %
    expect(page.locator("#dose-check")).to_contain_text("2.86e+06 cells/kg")
    expect(page.locator("#dose-check")).to_contain_text("not accepted")
    shot(page, "dose-preview-refused")
    page.locator("#id_dose_cells").fill("7.2e7")  # 1.03e6 cells/kg, within 10 %
    expect(page.locator("#dose-check")).to_contain_text("1.03e+06 cells/kg")
    expect(page.locator("#dose-check")).to_contain_text("accepted by the protocol")
    shot(page, "dose-preview-accepted")

    page.goto(f"{S}/p/P01/")
    page.locator("#consents").get_by_role("link", name="history").click()
    expect(
        page.get_by_role("heading", name=re.compile("History of consent record"))
    ).to_be_visible()
    expect(page.locator("table.audit")).to_contain_text("moved abroad")
    expect(page.locator("table.audit")).to_contain_text("withdrawal_scope")
    shot(page, "audit-record")
    page.get_by_role("link", name="Audit trail").first.click()
    page.get_by_label("User").fill("cora")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-count")).to_have_text("2")  # the withdrawal and the lot
    shot(page, "audit-study")
