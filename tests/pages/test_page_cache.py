"""The participant page's cached parts never outlive a change, and the plots it draws are
placed where the drawing's arithmetic puts them (worked out by hand)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import polars as pl
import pytest
from page_flow import PASSWORD

from celltrial.web.pages.plots import HEIGHT, PAD, WIDTH, analyte_plots

S = "/s/small-study"


@pytest.mark.django_db
def test_a_new_lab_value_shows_on_the_next_render(login_as):
    from celltrial.registry.services.users import add_user
    from celltrial.registry.services.writes import create_row

    c = login_as("cora", "coordinator")
    before = c.get(f"{S}/p/P01/").content.decode()  # its parts are now cached
    assert "2019-06-01 9.87" not in before
    writer = add_user("wes", PASSWORD, "coordinator", "small-study", ["S01"])
    values = {"participant_id": "P01", "time": dt.datetime(2019, 6, 1, 8), "analyte": "fpg"}
    create_row(writer.user, writer, "measurements", {**values, "value": 9.87, "unit": "mmol/L"})
    after = c.get(f"{S}/p/P01/").content.decode()
    assert "<title>2019-06-01 9.87</title>" in after  # the plot's new point
    assert "fpg 9.87 mmol/L" in after  # the timeline's labs of that time


def test_plot_points_by_hand():
    """Two values 10 days apart: the first at the left edge and the bottom, the second at
    the right edge and the top (x from PAD to WIDTH - PAD, y from HEIGHT - PAD to PAD)."""
    frame = pl.DataFrame(
        {
            "analyte": ["fpg", "fpg", "hba1c"],
            "time": [dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 11), dt.datetime(2020, 1, 1)],
            "value": [5.0, 9.0, 7.0],
            "unit": ["mmol/L", "mmol/L", "%"],
        }
    )
    fpg, hba1c = analyte_plots(frame)
    assert fpg.points == f"{PAD:.1f},{HEIGHT - PAD:.1f} {WIDTH - PAD:.1f},{PAD:.1f}"
    assert [d["label"] for d in fpg.dots] == ["2020-01-01 5.0", "2020-01-11 9.0"]
    assert (fpg.y_min, fpg.y_max, fpg.first, fpg.last) == ("5", "9", "2020-01-01", "2020-01-11")
    # one value: no time span (1 s) nor value span (10 % of the value): left edge, bottom
    assert hba1c.points == f"{PAD:.1f},{HEIGHT - PAD:.1f}" and hba1c.unit == "%"


def test_threads_missing_one_key_compute_it_once(monkeypatch):
    from django.core.cache import cache

    from celltrial.web.pages import cached as module

    monkeypatch.setattr(module, "data_state", lambda: 7)
    cache.clear()
    calls = []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.2)  # long enough for every thread to miss the key first
        return 42

    got = []
    threads = [
        threading.Thread(target=lambda: got.append(module.cached(("t",), compute)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [42] * 8 and len(calls) == 1
    cache.clear()
