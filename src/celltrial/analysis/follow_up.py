"""The long-term safety follow-up: values at a protocol's extension visits (lian2022 m6-m36,
issue 11), summarised apart from the paper's outcomes, which are analysed at the paper's
visits only. Empty when the protocol has no extension visit or the study no value there."""

from __future__ import annotations

import polars as pl

from celltrial.analysis.descriptive import summarize_per_visit
from celltrial.analysis.plan import AnalysisPlan
from celltrial.analysis.values import as_text
from celltrial.clinical.analytes import ANALYTES, QUESTIONS
from celltrial.protocol.model import Protocol

SCHEMA = {
    "analyte": pl.Utf8,
    "visit_id": pl.Utf8,
    "n": pl.Int64,
    "median": pl.Float64,
    "q1": pl.Float64,
    "q3": pl.Float64,
    "n_yes": pl.Int64,  # yes/no questions (new_malignancy): participants answering yes
}


def extension_visit_ids(protocol: Protocol | None, plan: AnalysisPlan) -> list[str]:
    """The protocol's extension visits the plan does not analyse as the paper's."""
    if protocol is None:
        return []
    return [v.id for v in protocol.extension_visits if v.id not in plan.visits]


def follow_up_summary(values: pl.DataFrame, visits: list[str]) -> pl.DataFrame:
    """Per analyte and extension visit with values: n, median, Q1, Q3 (type 6, as every
    per-visit summary) and, for a yes/no question, the number of yes answers. `values`: the
    analysis frame (visit_values) at the extension `visits`."""
    if not visits or values.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    values = as_text(values)
    present = set(values["analyte"].unique().to_list())
    analytes = [a for a in ANALYTES if a in present]  # catalogue order
    stats = summarize_per_visit(values, analytes, visits).filter(pl.col("n") > 0)
    yes = (
        values.filter(pl.col("analyte").is_in(sorted(QUESTIONS)))
        .group_by("analyte", "visit_id")
        .agg((pl.col("value") == 1).sum().cast(pl.Int64).alias("n_yes"))
    )
    return stats.join(yes, on=["analyte", "visit_id"], how="left").select(list(SCHEMA)).cast(SCHEMA)
