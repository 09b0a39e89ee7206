"""Hypoglycaemic-agent dose change per participant (Lian 2022 endpoint).

Insulin is expressed in U/kg/day; every agent (insulin included) as a fraction of its WHO
defined daily dose (ATC/DDD), from the catalogue in celltrial.clinical.drugs. The total
DDD-normalised dose at each follow-up visit is compared with baseline and put into the paper's
categories: reduced 10 to 50 %, reduced more than 50 %, discontinued (Lian 2022, L191-195).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from celltrial.analysis.proportions import with_wilson
from celltrial.clinical.dosing import insulin_u_per_kg
from celltrial.clinical.drugs import DoseUnitError, UnknownDrugError, fraction_of_ddd
from celltrial.data.study import StudyData

INSULIN_ATC_PREFIX = "A10A"  # WHO ATC: A10A insulins and analogues
# Category limits, percent reduction of the total DDD-normalised dose (Lian 2022 L191-195);
# changes within +-10 % count as unchanged (the paper's smallest reported category is 10 %).
REDUCED_MIN, REDUCED_HALF = 10.0, 50.0
CATEGORIES = (
    "discontinued",
    "reduced > 50 %",
    "reduced 10-50 %",
    "unchanged (within 10 %)",
    "increased > 10 %",
    "no agent at baseline",
    "not classifiable (drug outside the ATC/DDD catalogue)",
)


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


def _with_weights(frame: pl.DataFrame, study: StudyData) -> pl.DataFrame:
    """Add weight_kg: the participant's earliest measured weight, else the infusion record."""
    keyed = {"on": "participant_id", "how": "left", "maintain_order": "left"}
    out = frame.join(_measured_weights(study.measurements), **keyed)
    if out["w_meas"].null_count() == 0:  # infusion records only fill gaps: none here
        return out.rename({"w_meas": "weight_kg"})
    infused = study.infusions.group_by("participant_id").agg(
        pl.col("weight_kg").drop_nulls().first().alias("w_inf")
    )
    return (
        out.join(infused, **keyed)
        .with_columns(pl.coalesce("w_meas", "w_inf").alias("weight_kg"))
        .drop("w_meas", "w_inf")
    )


def _measured_weights(meas: pl.DataFrame) -> pl.DataFrame:
    """participant_id, w_meas: the value of each participant's earliest weight measurement.

    A weight with a null time counts as earliest (nulls sort first); ties keep stored order.
    """
    weighed = meas.select("participant_id", "time", "value").filter(meas["analyte"] == "weight")
    null_first = np.iinfo(np.int64).min  # a null time sorts before every real one
    order = pl.col("time").to_physical().fill_null(null_first)
    return weighed.group_by("participant_id").agg(
        pl.col("value").get(order.arg_min()).alias("w_meas")
    )


def doses_at_visits(study: StudyData, visits: list[str]) -> pl.DataFrame:
    """Per participant and visit: insulin U/day and U/kg/day, total DDD fraction, agent count.

    A prescription is active on day t when start_date <= t and (no end_date or end_date > t):
    end_date is read as the first day without the drug, so a dose change on a visit day counts
    the new dose only.
    """
    dates = visit_dates(study, visits)
    meds = with_ddd_fraction(study.medications)
    active = dates.join(meds, on="participant_id", how="inner").filter(
        (pl.col("start_date") <= pl.col("date"))
        & (pl.col("end_date").is_null() | (pl.col("end_date") > pl.col("date")))
    )
    insulin = pl.col("atc_code").fill_null("").str.starts_with(INSULIN_ATC_PREFIX)
    dosed = active.group_by("participant_id", "visit_id").agg(
        pl.col("daily_dose").filter(insulin).sum().alias("insulin_u_day"),
        pl.col("ddd_fraction").sum().alias("total_ddd"),
        (pl.col("daily_dose") > 0).sum().alias("n_agents"),
        pl.col("ddd_fraction").is_null().sum().alias("n_unknown_ddd"),
    )
    # rows in visit_dates order (maintain_order: polars promises no order otherwise)
    keys = ["participant_id", "visit_id"]
    out = dates.join(dosed, on=keys, how="left", maintain_order="left").with_columns(
        pl.col("insulin_u_day").fill_null(0.0),
        pl.col("total_ddd").fill_null(0.0),
        pl.col("n_agents").fill_null(0).cast(pl.Int64),
        pl.col("n_unknown_ddd").fill_null(0).cast(pl.Int64),
    )
    out = _with_weights(out, study)
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
    doses = doses_at_visits(study, visits)
    base = doses.filter(pl.col("visit_id") == baseline).select(
        "participant_id",
        pl.col("total_ddd").alias("baseline_ddd"),
        pl.col("insulin_u_kg_day").alias("baseline_insulin_u_kg_day"),
        pl.col("n_unknown_ddd").alias("_base_unknown"),
    )
    follow = doses.filter(pl.col("visit_id") != baseline).join(
        base, on="participant_id", maintain_order="left"
    )
    pct = 100.0 * (pl.col("total_ddd") - pl.col("baseline_ddd")) / pl.col("baseline_ddd")
    follow = follow.with_columns(pct.alias("pct_change"))
    c = pl.col("pct_change")
    category = (
        pl.when((pl.col("n_unknown_ddd") + pl.col("_base_unknown")) > 0)
        .then(pl.lit(CATEGORIES[6]))
        .when(pl.col("baseline_ddd").is_null() | (pl.col("baseline_ddd") <= 0))
        .then(pl.lit(CATEGORIES[5]))
        .when(pl.col("total_ddd") <= 0)
        .then(pl.lit(CATEGORIES[0]))
        .when(c < -REDUCED_HALF)
        .then(pl.lit(CATEGORIES[1]))
        .when(c <= -REDUCED_MIN)
        .then(pl.lit(CATEGORIES[2]))
        .when(c < REDUCED_MIN)
        .then(pl.lit(CATEGORIES[3]))
        .otherwise(pl.lit(CATEGORIES[4]))
    )
    return follow.with_columns(category.alias("category")).drop("_base_unknown")


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
