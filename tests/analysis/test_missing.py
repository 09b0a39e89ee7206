"""Missing-data tables against plain set arithmetic on random schedules and values."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.analysis.missing import missing_summary, missing_values
from celltrial.analysis.plan import AnalysisPlan, OutcomePlan

PEOPLE = ["P1", "P2", "P10", "Q3"]  # "P10" sorts between "P1" and "P2"
VISITS = ("d0", "d28", "d84")
ANALYTES = ("fpg", "hba1c", "alt")
KEYS = st.tuples(
    st.sampled_from([*PEOPLE, "X9"]),  # X9: a value of somebody not enrolled
    st.sampled_from(VISITS),
    st.sampled_from([*ANALYTES, "crp"]),  # crp: not an outcome
)


@settings(max_examples=60, deadline=None)
@given(
    observed=st.sets(KEYS, max_size=40),
    schedules=st.lists(st.sets(st.sampled_from(VISITS), min_size=1), min_size=3, max_size=3),
    enrolled=st.sets(st.sampled_from(PEOPLE), min_size=1),
)
def test_missing_tables_equal_set_difference(observed, schedules, enrolled) -> None:
    outcomes = tuple(
        OutcomePlan(a, tuple(v for v in VISITS if v in s))
        for a, s in zip(ANALYTES, schedules, strict=True)
    )
    plan = AnalysisPlan("p", VISITS, "d0", outcomes)
    people = pl.DataFrame({"participant_id": sorted(enrolled, reverse=True)})
    rows = sorted(observed)
    values = pl.DataFrame(
        {
            "participant_id": [r[0] for r in rows],
            "visit_id": [r[1] for r in rows],
            "analyte": [r[2] for r in rows],
            "value": [1.0] * len(rows),
        },
        schema={
            "participant_id": pl.Utf8,
            "visit_id": pl.Utf8,
            "analyte": pl.Utf8,
            "value": pl.Float64,
        },
    )
    scheduled = [(o.analyte, v) for o in outcomes for v in o.visits]
    expected = {(p, a, v) for p in enrolled for a, v in scheduled}
    have = {(p, a, v) for p, v, a in observed}
    want = sorted(expected - have)
    got = missing_values(people, values, plan)
    assert got.rows() == want
    summary = missing_summary(people, values, plan)
    assert summary.select("analyte", "visit_id").rows() == scheduled
    for a, v, n, seen, miss in summary.select(
        "analyte", "visit_id", "expected", "observed", "missing"
    ).rows():
        assert n == len(enrolled)
        assert miss == sum(1 for p, aa, vv in want if (aa, vv) == (a, v))
        assert seen == n - miss
