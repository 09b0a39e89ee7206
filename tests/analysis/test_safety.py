"""Adverse events: terms normalised, each event attributed to an infusion within its term's
window (fever 24 h, Lian 2022), tabulated by term x infusion; counts solved by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.analysis.safety import NO_INFUSION, OUTSIDE_WINDOW, adverse_event_tables
from celltrial.clinical.adverse_event_terms import SYNONYMS, normalised_term
from celltrial.data.schema import TABLES

START = dt.date(2024, 1, 8)  # the fixture's day 0; infusions at days 7, 14, 21, 09:00


def _at(day: int, hours: float) -> dt.datetime:
    return dt.datetime.combine(START + dt.timedelta(days=day), dt.time(9)) + dt.timedelta(
        hours=hours
    )


def _events(rows: list[tuple]) -> pl.DataFrame:
    schema = TABLES["adverse_events"].polars_schema
    frame = pl.DataFrame(
        {
            "participant_id": [r[0] for r in rows],
            "ae_id": [f"A{k}" for k in range(len(rows))],
            "term": [r[1] for r in rows],
            "onset_time": [r[2] for r in rows],
            "serious": [False] * len(rows),
            "infusion_id": [r[3] for r in rows],
        }
    )
    missing = [pl.lit(None, t).alias(c) for c, t in schema.items() if c not in frame.columns]
    return frame.with_columns(missing).select([pl.col(c).cast(t) for c, t in schema.items()])


# Lian 2022 (seed lines 202-203) as data: four patients with five fevers within 24 h after the
# second or third infusion, entered in different spellings; one nocturnal hypoglycaemia after
# the third infusion (day 28); plus a fever 30 h after infusion 3 and a low blood sugar
# before the first infusion, which belong to no infusion.
ROWS = [
    ("P01", "fever", _at(14, 10), None),  # infusion 2, 10 h
    ("P01", "  Pyrexia ", _at(21, 5), None),  # infusion 3, 5 h
    ("P02", "FEVER", _at(21, 24), None),  # infusion 3, exactly 24 h: inside (<= 24 h)
    ("P03", "febrile", _at(14, 2), "P03-I2"),  # recorded infusion 2
    ("P04", "Fever", _at(21, 12), None),  # infusion 3
    ("P05", "fever", _at(21, 30), None),  # 30 h after infusion 3: outside the window
    ("P06", "nocturnal hypoglycemia", _at(28, -6), None),  # day 28 at 03:00: infusion 3
    ("P07", "low blood sugar", _at(3, 0), None),  # day 3: before the first infusion
]


def _tables(study_factory):
    study = dataclasses.replace(study_factory(12), adverse_events=_events(ROWS))
    return adverse_event_tables(study)


def test_term_by_infusion_counted_by_hand(study_factory) -> None:
    s = _tables(study_factory)
    got = {
        (r["term"], r["attribution"], r["infusion_number"]): (r["events"], r["participants"])
        for r in s.by_term_infusion.iter_rows(named=True)
    }
    assert got == {
        ("Fever", "infusion", 1): (0, 0),
        ("Fever", "infusion", 2): (2, 2),  # P01, P03
        ("Fever", "infusion", 3): (3, 3),  # P01, P02, P04
        ("Fever", OUTSIDE_WINDOW, None): (1, 1),  # P05
        ("Hypoglycaemia", "infusion", 1): (0, 0),
        ("Hypoglycaemia", "infusion", 2): (0, 0),
        ("Hypoglycaemia", "infusion", 3): (1, 1),  # P06: the interval after infusion 3
        ("Hypoglycaemia", NO_INFUSION, None): (1, 1),  # P07
    }
    # five fevers in four patients attributed, as Lian 2022 reports them
    fever = s.by_term_infusion.filter(
        (pl.col("term") == "Fever") & (pl.col("attribution") == "infusion")
    )
    assert fever["events"].sum() == 5
    by_inf = dict(s.by_infusion.select("infusion_number", "events").rows())
    assert by_inf == {1: 0, 2: 2, 3: 4}
    assert dict(s.by_term.select("term", "events").rows()) == {"Fever": 6, "Hypoglycaemia": 2}


def test_the_term_as_entered_is_kept(study_factory) -> None:
    ev = _tables(study_factory).events.sort("ae_id")
    assert ev["term_as_entered"].to_list() == [r[1] for r in ROWS]
    assert ev["term"].to_list()[:3] == ["Fever", "Fever", "Fever"]


@settings(deadline=None)  # the first call compiles Polars expressions
@given(
    st.sampled_from(sorted(SYNONYMS)),
    st.lists(st.sampled_from([" ", "  ", "\t"]), max_size=2),
    st.booleans(),
)
def test_any_case_and_spacing_of_a_synonym_gives_its_preferred_term(word, pad, upper) -> None:
    typed = "".join(pad) + (word.upper() if upper else word.title()).replace(" ", "  ") + " "
    out = pl.select(normalised_term(pl.lit(typed))).item()
    assert out == SYNONYMS[word].capitalize()


def test_without_infusions_no_event_is_attributed_and_there_is_no_rate(study_factory) -> None:
    from celltrial.analysis import analyze_study
    from celltrial.data.schema import empty_frame
    from celltrial.report.tables import ae_term_infusion_table

    # events that name no infusion (validate refuses a reference to an infusion not recorded)
    events = _events(ROWS).with_columns(pl.lit(None, pl.Utf8).alias("infusion_id"))
    study = dataclasses.replace(
        study_factory(12), adverse_events=events, infusions=empty_frame("infusions")
    )
    r = analyze_study(study, "lian2022")
    assert r.ae_overall["events_per_infusion"][0] is None  # 8 events / 0 infusions: no rate
    assert set(r.ae_by_term_infusion["attribution"]) == {NO_INFUSION}
    t = ae_term_infusion_table(r)
    assert t.frame.columns == ["Term", "Not attributed", "Total"]
    assert t.frame.rows() == [("Fever", "6", "6 (5)"), ("Hypoglycaemia", "2", "2 (2)")]
