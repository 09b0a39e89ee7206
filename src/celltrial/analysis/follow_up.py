"""The long-term safety follow-up: values at a protocol's extension visits (lian2022 m6-m36,
issue 11), summarised apart from the paper's outcomes, which are analysed at the paper's
visits only. Empty when the protocol has no extension visit or the study no value there."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from celltrial.analysis.descriptive import summarize_per_visit
from celltrial.analysis.plan import AnalysisPlan
from celltrial.analysis.values import as_text, visit_values
from celltrial.clinical.analytes import ANALYTES, QUESTIONS
from celltrial.data.study import StudyData
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


def follow_up_summary(
    study: StudyData, plan: AnalysisPlan, protocol: Protocol | None
) -> pl.DataFrame:
    """Per analyte and extension visit with values: n, median, Q1, Q3 (type 6, as every
    per-visit summary) and, for a yes/no question, the number of yes answers."""
    visits = [v.id for v in protocol.extension_visits] if protocol is not None else []
    if not visits:
        return pl.DataFrame(schema=SCHEMA)
    values = as_text(visit_values(study, replace(plan, visits=tuple(visits))))
    if values.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    present = set(values["analyte"].unique().to_list())
    analytes = [a for a in ANALYTES if a in present]  # catalogue order
    stats = summarize_per_visit(values, analytes, visits).filter(pl.col("n") > 0)
    yes = (
        values.filter(pl.col("analyte").is_in(sorted(QUESTIONS)))
        .group_by("analyte", "visit_id")
        .agg((pl.col("value") == 1).sum().cast(pl.Int64).alias("n_yes"))
    )
    return stats.join(yes, on=["analyte", "visit_id"], how="left").select(list(SCHEMA)).cast(SCHEMA)
