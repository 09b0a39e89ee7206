"""Missing-data summary: which participant misses which outcome at which visit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from celltrial.analysis.plan import AnalysisPlan
from celltrial.analysis.values import as_keys, positions, sex_counts
from celltrial.clinical.analytes import SEX_SPECIFIC


def _scheduled(plan: AnalysisPlan) -> pl.DataFrame:
    """(analyte, visit_id) scheduled by the plan, in plan order, each once."""
    return pl.DataFrame(
        {
            "analyte": [o.analyte for o in plan.outcomes for _ in o.visits],
            "visit_id": [v for o in plan.outcomes for v in o.visits],
        },
        schema={"analyte": pl.Utf8, "visit_id": pl.Utf8},
    ).unique(maintain_order=True)


@dataclass(frozen=True)
class _Presence:
    """Which enrolled participant (rows, ids sorted) has a value at which scheduled (analyte,
    visit) slot (columns, plan order), and whom each slot expects (a sex-specific analyte:
    only participants of that sex)."""

    ids: pl.Series
    slots: pl.DataFrame
    seen: np.ndarray
    expected: np.ndarray


def _presence(participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan) -> _Presence:
    """One pass over the values: participant and slot found by lookup tables on the
    categorical codes (values of participants not enrolled, or at unscheduled slots, fall in
    the table's extra row or column, which is dropped)."""
    ids = participants["participant_id"].drop_nulls().unique().sort()
    slots = _scheduled(plan)
    analytes = slots["analyte"].unique(maintain_order=True).to_list()
    visits = slots["visit_id"].unique(maintain_order=True).to_list()
    slot_of = np.full((len(analytes) + 1, len(visits) + 1), slots.height)
    slot_of[
        [analytes.index(a) for a in slots["analyte"]], [visits.index(v) for v in slots["visit_id"]]
    ] = np.arange(slots.height)
    keys = as_keys(values.select("participant_id", "analyte", "visit_id"))
    row = positions(keys["participant_id"], ids.to_list())
    col = slot_of[positions(keys["analyte"], analytes), positions(keys["visit_id"], visits)]
    seen = np.zeros((ids.len() + 1, slots.height + 1), dtype=bool)
    seen[row, col] = True
    return _Presence(ids, slots, seen[:-1, :-1], _expected(participants, ids, slots))


def _expected(participants: pl.DataFrame, ids: pl.Series, slots: pl.DataFrame) -> np.ndarray:
    """participants x slots: True where the slot expects the participant (values.sex_counts)."""
    required = slots["analyte"].replace_strict(SEX_SPECIFIC, default=None).to_numpy()
    out = np.ones((ids.len(), slots.height), dtype=bool)
    specific = np.flatnonzero(~np.equal(required, None))
    if specific.size == 0:
        return out
    people = participants.select("participant_id", "sex").unique("participant_id", keep="first")
    sex = pl.DataFrame({"participant_id": ids}).join(people, on="participant_id", how="left")
    sexes = sex["sex"].to_numpy().astype(object)[:, None]
    out[:, specific] = sex_counts(sexes, required[None, specific])
    return out


def missing_tables(
    participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """missing_summary and missing_values from one presence table."""
    p = _presence(participants, values, plan)
    return _summary(p), _missing(p)


def missing_values(
    participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan
) -> pl.DataFrame:
    """The scheduled (participant_id, analyte, visit_id) with no value: who misses what, when,
    sorted by participant_id, analyte, visit_id."""
    return _missing(_presence(participants, values, plan))


def missing_summary(
    participants: pl.DataFrame, values: pl.DataFrame, plan: AnalysisPlan
) -> pl.DataFrame:
    """Per analyte and visit: expected, observed, missing and percent missing."""
    return _summary(_presence(participants, values, plan))


def _missing(p: _Presence) -> pl.DataFrame:
    order = p.slots.with_row_index("_s").sort("analyte", "visit_id")  # slots in output order
    slot = order["_s"].to_numpy()
    who, which = np.nonzero(p.expected[:, slot] & ~p.seen[:, slot])  # row-major: sorted
    return pl.DataFrame(
        {
            "participant_id": p.ids.gather(who),
            "analyte": order["analyte"].gather(which),
            "visit_id": order["visit_id"].gather(which),
        }
    )


def _summary(p: _Presence) -> pl.DataFrame:
    expected = p.expected.sum(axis=0)
    observed = (p.seen & p.expected).sum(axis=0)
    out = p.slots.with_columns(
        pl.Series("expected", expected, pl.UInt32),
        pl.Series("observed", observed, pl.UInt32),
        pl.Series("missing", expected - observed, pl.UInt32),
    )
    return out.with_columns((100.0 * pl.col("missing") / pl.col("expected")).alias("pct_missing"))
