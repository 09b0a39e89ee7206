"""The schedule endpoint lists lian2022's long-term follow-up visits as extensions, with
window dates counted by hand from the first infusion of the small example study."""

from __future__ import annotations

import pytest

from celltrial.registry.models import Participant


@pytest.mark.django_db
def test_schedule_marks_the_extension_visits(small_study, api_as):
    api = api_as("ana", "coordinator")
    pk = Participant.objects.get(participant_id="P01", deleted=False).pk
    answer = api.get(f"/api/participants/{pk}/schedule")
    assert answer.status_code == 200, answer.content
    rows = {r["visit_id"]: r for r in answer.json()}
    assert [v for v, r in rows.items() if r["extension"]] == ["m6", "m12", "m24", "m36"]
    assert not any(rows[v]["extension"] for v in ("d0", "d14", "d21", "d28", "d84"))
    # P01's first infusion is 2019-03-04 (infusions.csv). +180 days: 27 to 31 March, then
    # April 30, May 31, June 30, July 31 (149), 31 more: 31 August; window +-30 days.
    m6 = rows["m6"]
    assert (m6["target_date"], m6["window_start"], m6["window_end"]) == (
        "2019-08-31",
        "2019-08-01",
        "2019-09-30",
    )
    # +1095 days over the 2020 leap day: 2022-03-03; +-60 days: 2022-01-02 and 2022-05-02
    m36 = rows["m36"]
    assert (m36["target_date"], m36["window_start"], m36["window_end"]) == (
        "2022-03-03",
        "2022-01-02",
        "2022-05-02",
    )
