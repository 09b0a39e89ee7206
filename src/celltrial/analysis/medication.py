"""Hypoglycaemic-agent dose change per participant (Lian 2022 endpoint).

The combined endpoint is the total dose: the sum over every agent taken (insulin included) of
daily dose / WHO defined daily dose (ATC/DDD Index, celltrial.clinical.drugs). Its change from
baseline at each follow-up visit falls in the paper's categories by the one rule of
celltrial.clinical.dose_change (Lian 2022 L196-199). Insulin (ATC A10A, in U/kg/day with the
weight of celltrial.clinical.derivations.weight_on) and the non-insulin agents (ATC A10B, as a
sum of DDD fractions) are also reported on their own (dose_summary).

A prescription counts on a visit date d when start_date <= d <= end_date (end_date is the last
day taken; empty while ongoing: celltrial.clinical.drugs.taken_on).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from celltrial.analysis.descriptive import summarize
from celltrial.analysis.proportions import with_wilson
from celltrial.clinical.derivations import weight_on
from celltrial.clinical.dose_change import DOSE_CATEGORIES, classify_dose_change
from celltrial.clinical.dosing import insulin_u_per_kg
from celltrial.clinical.drugs import (
    INSULIN_DOSE_UNITS,
    DoseUnitError,
    UnknownDrugError,
    fraction_of_ddd,
    insulin_expr,
    taken_on,
)
from celltrial.data.study import StudyData

NOT_CLASSIFIABLE = "not classifiable (drug outside the ATC/DDD catalogue)"
CATEGORIES = (*DOSE_CATEGORIES, NOT_CLASSIFIABLE)
# The dose components of dose_summary, each among the participants taking it at baseline.
COMPONENTS = {
    "total_ddd": "All agents, sum of DDD fractions",
    "insulin_u_kg_day": "Insulin (ATC A10A), U/kg/day",
    "non_insulin_ddd": "Non-insulin agents (ATC A10B), sum of DDD fractions",
}


def visit_dates(study: StudyData, visits: list[str] | None = None) -> pl.DataFrame:
    """participant_id, visit_id, date: the visit's actual date, else its first measurement.

    A pair with a dated row in the visits table keeps that date; a pair the table lacks or
    leaves undated takes the date of its earliest measurement (null when every time is null).
    Given `visits`, only those visit_ids are kept. Rows: the dated visits in table order, then
    the pairs dated from measurements in order of first appearance.
    """
    keys = ["participant_id", "visit_id"]
    vid = pl.col("visit_id")
    dated = study.visits.filter(pl.col("actual_date").is_not_null())
    meas = study.measurements.filter(vid.is_not_null())
    if visits is not None:
        dated, meas = dated.filter(vid.is_in(visits)), meas.filter(vid.is_in(visits))
    dated = dated.select(*keys, pl.col("actual_date").alias("date"))
    from_meas = (
        meas.join(dated, on=keys, how="anti", maintain_order="left")  # only undated pairs
        .group_by(keys, maintain_order=True)
        .agg(pl.col("time").min().dt.date().alias("date"))
    )
    return pl.concat([dated, from_meas])


def doses_at_visits(study: StudyData, visits: list[str]) -> pl.DataFrame:
    """Per participant and visit: insulin U/day, weight_kg and insulin U/kg/day, the total,
    insulin and non-insulin DDD fractions, the number of agents and of rows outside the
    ATC/DDD catalogue, from the prescriptions taken on the visit date."""
    dates = visit_dates(study, visits)
    meds = with_ddd_fraction(study.medications).with_columns(insulin_expr().alias("_insulin"))
    active = dates.join(meds, on="participant_id", how="inner").filter(taken_on(pl.col("date")))
    insulin = pl.col("_insulin")
    in_units = pl.col("dose_unit").is_in(list(INSULIN_DOSE_UNITS)).fill_null(False)
    dosed = active.group_by("participant_id", "visit_id").agg(
        pl.col("daily_dose").filter(insulin & in_units).sum().alias("insulin_u_day"),
        pl.col("ddd_fraction").sum().alias("total_ddd"),
        pl.col("ddd_fraction").filter(insulin).sum().alias("insulin_ddd"),
        pl.col("ddd_fraction").filter(~insulin).sum().alias("non_insulin_ddd"),
        (pl.col("daily_dose") > 0).sum().alias("n_agents"),
        pl.col("ddd_fraction").is_null().sum().alias("n_unknown_ddd"),
    )
    # rows in visit_dates order (maintain_order: polars promises no order otherwise)
    keys = ["participant_id", "visit_id"]
    out = dates.join(dosed, on=keys, how="left", maintain_order="left").with_columns(
        pl.col("insulin_u_day", "total_ddd", "insulin_ddd", "non_insulin_ddd").fill_null(0.0),
        pl.col("n_agents", "n_unknown_ddd").fill_null(0).cast(pl.Int64),
    )
    out = weight_on(out, "date", study.measurements, study.infusions)
    per_kg = insulin_u_per_kg(out["insulin_u_day"].to_numpy(), out["weight_kg"].to_numpy())
    return out.with_columns(pl.Series("insulin_u_kg_day", np.atleast_1d(per_kg), pl.Float64))


def with_ddd_fraction(meds: pl.DataFrame) -> pl.DataFrame:
    """Add ddd_fraction = daily_dose / DDD (celltrial.clinical.drugs) and ddd_note.

    The catalogue is asked once per distinct (drug, unit); a drug or unit it does not know
    gets a null fraction and a note instead of stopping the analysis.
    """
    keyed = meds.with_columns(pl.coalesce("atc_code", "drug").alias("_key"))
    pairs = keyed.select("_key", "dose_unit").unique()
    factors, notes = [], []
    for key, unit in pairs.iter_rows():  # one step per distinct drug and unit
        try:
            factors.append(float(fraction_of_ddd(key, 1.0, unit or "")))
            notes.append(None)
        except (UnknownDrugError, DoseUnitError, ValueError) as exc:
            factors.append(None)
            notes.append(f"not in the ATC/DDD catalogue: {exc}")
    table = pairs.with_columns(
        pl.Series("_factor", factors, pl.Float64), pl.Series("ddd_note", notes, pl.Utf8)
    )
    return (
        keyed.join(table, on=["_key", "dose_unit"], how="left", nulls_equal=True)
        .with_columns((pl.col("daily_dose") * pl.col("_factor")).alias("ddd_fraction"))
        .drop("_key", "_factor")
    )


def dose_change(study: StudyData, visits: list[str], baseline: str) -> pl.DataFrame:
    """Per participant and follow-up visit: baseline and visit doses, percent change, category."""
    return change_from_baseline(doses_at_visits(study, visits), baseline)


def change_from_baseline(doses: pl.DataFrame, baseline: str) -> pl.DataFrame:
    """The follow-up rows of doses_at_visits with the baseline doses beside them, the percent
    change of the total DDD-normalised dose and its category (clinical.dose_change); a row
    with a drug outside the ATC/DDD catalogue, at baseline or at the visit, is not
    classifiable."""
    base = doses.filter(pl.col("visit_id") == baseline).select(
        "participant_id",
        pl.col("total_ddd").alias("baseline_ddd"),
        pl.col("insulin_u_kg_day").alias("baseline_insulin_u_kg_day"),
        pl.col("non_insulin_ddd").alias("baseline_non_insulin_ddd"),
        pl.col("n_unknown_ddd").alias("_base_unknown"),
    )
    follow = doses.filter(pl.col("visit_id") != baseline).join(
        base, on="participant_id", maintain_order="left"
    )
    pct = 100.0 * (pl.col("total_ddd") - pl.col("baseline_ddd")) / pl.col("baseline_ddd")
    category = classify_dose_change(
        follow["baseline_ddd"].to_numpy(), follow["total_ddd"].to_numpy()
    )
    unknown = (pl.col("n_unknown_ddd") + pl.col("_base_unknown")) > 0
    return follow.with_columns(
        pl.when(pl.col("baseline_ddd") > 0).then(pct).alias("pct_change"),
        pl.when(unknown)
        .then(pl.lit(NOT_CLASSIFIABLE))
        .otherwise(pl.Series(category, dtype=pl.Utf8))
        .alias("category"),
    ).drop("_base_unknown")


def dose_summary(doses: pl.DataFrame, visits: list[str], baseline: str) -> pl.DataFrame:
    """component (COMPONENTS) x visit_id: n, mean, SD, median, Q1, Q3 (as
    analysis.descriptive) of the dose at each visit, each component among the participants
    taking it at baseline and with every agent in the ATC/DDD catalogue at that visit."""
    base = doses.filter(pl.col("visit_id") == baseline).select(
        "participant_id",
        *(pl.col(c).alias(f"_b_{c}") for c in COMPONENTS),
        pl.col("n_unknown_ddd").alias("_b_unknown"),
    )
    known = doses.join(base, on="participant_id").filter(
        (pl.col("n_unknown_ddd") + pl.col("_b_unknown")) == 0
    )
    long = pl.concat(
        [
            known.filter(pl.col(f"_b_{c}") > 0).select(
                "visit_id", pl.lit(c).alias("component"), pl.col(c).alias("value")
            )
            for c in COMPONENTS
        ]
    )
    # component by component, each in visit order (as a paper's dose table reads)
    grid = pl.DataFrame({"component": list(COMPONENTS)}).join(
        pl.DataFrame({"visit_id": visits}), how="cross"
    )
    stats = summarize(long, ["visit_id", "component"])
    return (
        grid.join(stats, on=["visit_id", "component"], how="left", maintain_order="left")
        .with_columns(
            pl.col("component").replace_strict(COMPONENTS).alias("label"),
            pl.col("n").fill_null(0).cast(pl.Int64),
        )
        .select("component", "label", "visit_id", pl.exclude("visit_id", "component", "label"))
    )


def category_counts(changes: pl.DataFrame, visits: list[str]) -> pl.DataFrame:
    """visit_id x category: count, n (participants with both doses), percent and Wilson CI."""
    grid = pl.DataFrame({"visit_id": visits}).join(
        pl.DataFrame({"category": list(CATEGORIES)}), how="cross"
    )
    counts = changes.group_by("visit_id", "category").agg(pl.len().alias("count"))
    totals = changes.group_by("visit_id").agg(pl.len().alias("n"))
    out = (
        grid.join(counts, on=["visit_id", "category"], how="left")
        .join(totals, on="visit_id", how="left")
        .with_columns(pl.col("count").fill_null(0), pl.col("n").fill_null(0))
    )
    return with_wilson(out)
