"""The registry schedules Lian 2022's long-term follow-up (issue 11): the extension visits
m6-m36 are placed in their windows and listed on the dashboard under "Long-term follow-up
due" from a month before their target date. Dates are counted by hand from the first
infusion, which the tests move to a known number of days before today."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from page_flow import PASSWORD

S = "/s/small-study"
TODAY = dt.date.today()


def _first_infused(participant: str, days_ago: int) -> dt.date:
    """Move the participant's three weekly infusions so the first was `days_ago` days ago
    (a test set-up: the stored rows are edited directly, not through the services)."""
    from celltrial.registry.models.clinical import CLINICAL_MODELS

    first = TODAY - dt.timedelta(days=days_ago)
    rows = CLINICAL_MODELS["infusions"].objects.filter(participant_id=participant)
    for row in rows.order_by("start_time"):
        week = int(row.infusion_id[-1]) - 1  # P01-I1, -I2, -I3: days 0, 7, 14
        row.start_time = dt.datetime.combine(first + dt.timedelta(days=7 * week), dt.time(9))
        row.save(update_fields=["start_time"])
    return first


def _member():
    from celltrial.registry.services.users import add_user

    return add_user("cora", PASSWORD, "coordinator", "small-study", ["S01"])


def _follow_up(member) -> set[tuple[str, str]]:
    from celltrial.registry.services.worklist import worklist

    return set(worklist(member).follow_up.select("participant_id", "visit_id").iter_rows())


@pytest.mark.django_db
def test_follow_up_is_listed_from_a_month_before_the_target(small_study):
    member = _member()
    _first_infused("P01", 150)  # month 6 (day 180) is 30 days ahead: listed
    _first_infused("P02", 149)  # 31 days ahead: not yet
    _first_infused("P03", 210)  # day 210: the last day of the month-6 window, still listed
    listed = _follow_up(member)
    assert ("P01", "m6") in listed and ("P03", "m6") in listed
    assert not any(p == "P02" for p, _ in listed)
    _first_infused("P03", 211)  # the window closed yesterday: overdue, no longer due
    from celltrial.registry.services.worklist import worklist

    work = worklist(member)
    assert ("P03", "m6") not in _follow_up(member)
    assert ("P03", "m6") in set(work.overdue.select("participant_id", "visit_id").iter_rows())
    # the paper's visits are never on the long-term list
    assert all(v.startswith("m") for _, v in listed)


@pytest.mark.django_db
def test_dashboard_shows_the_follow_up_due_for_an_infusion_180_days_ago(login_as):
    _first_infused("P01", 180)
    c = login_as("cora", "coordinator")
    page = c.get(f"{S}/").content.decode()
    section = re.search(r'<section[^>]*id="follow_up".*?</section>', page, re.S)
    assert section is not None, page[:2000]
    text = section.group(0)
    assert "Long-term follow-up due (1)" in text
    assert ">P01</a> m6" in text
    # target = first infusion + 180 days = today; the window closes 30 days later
    from django.utils.dateformat import format as date_format

    end = TODAY + dt.timedelta(days=30)
    assert f"target {date_format(TODAY, 'N j, Y')}, window to {date_format(end, 'N j, Y')}" in text


@pytest.mark.django_db
def test_a_value_at_month_6_is_placed_in_the_extension_visit(small_study):
    """A registry write schedules the extension visits and places a value in its window."""
    from celltrial.registry.models import Visit
    from celltrial.registry.services.writes import create_row

    member = _member()
    _first_infused("P01", 200)  # day 200 is inside m6's window (150..210)
    create_row(
        member.user,
        member,
        "measurements",
        {
            "participant_id": "P01",
            "time": dt.datetime.combine(TODAY, dt.time(9)),
            "analyte": "afp",
            "value_as_entered": "2.0",
            "unit_as_entered": "[IU]/mL",
        },
    )
    m6 = Visit.objects.get(participant_id="P01", visit_id="m6", deleted=False)
    assert (m6.actual_date, m6.study_day, m6.in_window) == (TODAY, 200, True)
    # the others are scheduled with no date yet
    later = Visit.objects.filter(participant_id="P01", visit_id__in=["m12", "m24", "m36"])
    assert sorted((v.visit_id, v.target_day, v.actual_date) for v in later) == [
        ("m12", 365, None),
        ("m24", 730, None),
        ("m36", 1095, None),
    ]
    from celltrial.registry.models import Measurement

    afp = Measurement.objects.get(participant_id="P01", analyte="afp", visit_id="m6")
    assert afp.value == pytest.approx(2.0 * 1.21)  # WHO IS 72/225: 1 IU = 1.21 ng


@pytest.mark.django_db
def test_the_visit_form_takes_the_malignancy_answer_at_month_6(login_as):
    from celltrial.registry.models import Measurement

    c = login_as("cora", "coordinator")
    # P01's first infusion 2019-03-04: 2019-09-02 is day 182, inside m6's 150..210
    form = {
        "time": "2019-09-02T09:00",
        "value_afp": "2.5",
        "unit_afp": "[IU]/mL",
        "value_new_malignancy": "0",
        "unit_new_malignancy": "1",
    }
    answer = c.post(f"{S}/p/P01/labs/", form)
    assert answer.status_code in (200, 302), answer.content.decode()[:2000]
    stored = {
        m.analyte: (m.visit_id, m.value, m.unit)
        for m in Measurement.objects.filter(participant_id="P01", visit_id="m6")
    }
    assert stored == {
        "afp": ("m6", pytest.approx(2.5 * 1.21), "ng/mL"),  # WHO IS 72/225
        "new_malignancy": ("m6", 0.0, "1"),
    }
    refused = c.post(
        f"{S}/p/P01/labs/",
        form | {"time": "2019-09-03T09:00", "value_afp": ""} | {"value_new_malignancy": "0.5"},
    )
    assert "new_malignancy is a yes/no answer: 1 (yes) or 0 (no)" in refused.content.decode()
