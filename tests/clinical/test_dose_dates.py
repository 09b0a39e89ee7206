"""The medications date rule (taken_on, taken_between) and the weight behind U/kg (weight_on),
each against the rule written directly in Python on random data."""

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.clinical.derivations import weight_on
from celltrial.clinical.drugs import taken_between, taken_on
from celltrial.data.schema import empty_frame

D0 = dt.date(2024, 1, 1)
_day = st.integers(0, 30).map(lambda d: D0 + dt.timedelta(days=d))
_maybe_day = st.one_of(st.none(), _day)


_window = st.tuples(_day, st.integers(0, 10)).map(lambda w: (w[0], w[0] + dt.timedelta(days=w[1])))


@given(rows=st.lists(st.tuples(_maybe_day, _maybe_day, _window), min_size=1, max_size=20))
def test_taken_between_is_the_inclusive_rule(rows) -> None:
    rows = [(start, end, a, b) for start, end, (a, b) in rows]
    frame = pl.DataFrame(
        rows,
        schema={"start_date": pl.Date, "end_date": pl.Date, "a": pl.Date, "b": pl.Date},
        orient="row",
    )
    got = frame.select(taken_between(pl.col("a"), pl.col("b")).alias("t"))["t"].to_list()
    for (start, end, a, b), g in zip(rows, got, strict=True):
        if start is None:  # unknown unless it ended before the window
            assert g is (False if end is not None and end < a else None)
        else:  # some day d in [a, b] with start <= d <= end (no end: ongoing)
            days = [a + dt.timedelta(days=k) for k in range((b - a).days + 1)]
            assert g == any(start <= d and (end is None or d <= end) for d in days)


def test_taken_on_its_last_day_and_not_after() -> None:
    frame = pl.DataFrame({"start_date": [D0], "end_date": [D0 + dt.timedelta(days=5)]})
    days = [D0 - dt.timedelta(days=1), D0, D0 + dt.timedelta(days=5), D0 + dt.timedelta(days=6)]
    got = [frame.select(taken_on(pl.lit(d))).item() for d in days]
    assert got == [False, True, True, False]


_pid = st.sampled_from(["P1", "P2", "P3"])


@settings(max_examples=80, deadline=None)
@given(
    # one weight per participant and day (same-day order is not part of the rule)
    weights=st.lists(
        st.tuples(_pid, _maybe_day, st.integers(40, 120)), max_size=8, unique_by=lambda w: w[:2]
    ),
    infused=st.lists(
        st.tuples(_pid, _day, st.one_of(st.none(), st.integers(40, 120))),
        max_size=4,
        unique_by=lambda i: i[:2],
    ),
    asked=st.lists(st.tuples(_pid, _maybe_day), min_size=1, max_size=8),
)
def test_weight_on_is_the_stated_rule(weights, infused, asked) -> None:
    meas = pl.concat(
        [
            empty_frame("measurements"),
            pl.DataFrame(
                {
                    "participant_id": [p for p, _, _ in weights],
                    "time": [None if d is None else dt.datetime(d.year, d.month, d.day, 8)
                             for _, d, _ in weights],
                    "analyte": ["weight"] * len(weights),
                    "value": [float(w) for _, _, w in weights],
                },
                schema_overrides={"time": pl.Datetime("us"), "participant_id": pl.Utf8},
            ),
        ],
        how="diagonal_relaxed",
    )  # fmt: skip
    inf = pl.DataFrame(
        {
            "participant_id": [p for p, _, _ in infused],
            "start_time": [dt.datetime(d.year, d.month, d.day, 10) for _, d, _ in infused],
            "weight_kg": [None if w is None else float(w) for _, _, w in infused],
        },
        schema={
            "participant_id": pl.Utf8,
            "start_time": pl.Datetime("us"),
            "weight_kg": pl.Float64,
        },
    )
    frame = pl.DataFrame(asked, schema={"participant_id": pl.Utf8, "date": pl.Date}, orient="row")
    got = weight_on(frame, "date", meas, inf)
    assert got.select("participant_id", "date").rows() == frame.rows()  # order kept

    def expected(pid: str, day: dt.date | None) -> float | None:
        timed = sorted((d, float(w)) for p, d, w in weights if p == pid and d is not None)
        before = [w for d, w in timed if day is not None and d <= day]
        after = [w for d, w in timed if day is not None and d > day]
        if before or after:  # the latest on or before the day, else the earliest after it
            return before[-1] if before else after[0]
        firsts = sorted((d, float(w)) for p, d, w in infused if p == pid and w is not None)
        return firsts[0][1] if firsts else None  # the earliest infusion record with a weight

    want = [expected(pid, day) for pid, day in asked]
    assert got["weight_kg"].to_list() == want
