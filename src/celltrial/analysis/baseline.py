"""Baseline characteristics table: mean +- SD and median (IQR) for continuous variables,
n (%) with Wilson 95 % CI for categorical ones, with the n behind each row."""

from __future__ import annotations

import polars as pl

from celltrial.analysis.descriptive import summarize
from celltrial.analysis.proportions import with_wilson
from celltrial.clinical.derivations import age_on
from celltrial.data.study import StudyData


def participant_covariates(study: StudyData) -> pl.DataFrame:
    """participant_id, sex, age (completed years at enrolment, clinical.derivations.age_on),
    diabetes duration, height."""
    p = study.participants
    return p.select(
        "participant_id",
        "sex",
        age_on(pl.col("enrollment_date")).alias("age"),  # completed years at enrolment
        pl.col("diabetes_duration_years").cast(pl.Float64),
        pl.col("height_cm").cast(pl.Float64),
    )


def baseline_table(
    study: StudyData, values: pl.DataFrame, baseline_visit: str, analytes: list[str]
) -> pl.DataFrame:
    """One row per variable (continuous) or level (categorical).

    Columns: variable, kind, level, n, mean, sd, median, q1, q3, count, percent, ci_low,
    ci_high. Continuous rows: age, diabetes duration, height, then each analyte at baseline.
    """
    cov = participant_covariates(study)
    demo = cov.unpivot(
        on=["age", "diabetes_duration_years", "height_cm"],
        index="participant_id",
        variable_name="variable",
        value_name="value",
    )
    base = values.filter(
        (pl.col("visit_id") == baseline_visit) & pl.col("analyte").is_in(analytes)
    ).select("participant_id", pl.col("analyte").alias("variable"), "value")
    cont = pl.concat([demo, base], how="vertical_relaxed").drop_nulls("value")
    order = ["age", "diabetes_duration_years", "height_cm", *analytes]
    continuous = (
        summarize(cont, ["variable"])
        .drop("reason")
        .with_columns(
            pl.lit("continuous").alias("kind"),
            pl.lit(None, pl.Utf8).alias("level"),
            pl.col("variable")
            .replace_strict({v: i for i, v in enumerate(order)}, default=len(order))
            .alias("_o"),
        )
        .sort("_o")
        .drop("_o", "min", "max")
    )
    return pl.concat([continuous, _sex_rows(cov)], how="diagonal_relaxed")


def _sex_rows(cov: pl.DataFrame) -> pl.DataFrame:
    known = cov.filter(pl.col("sex").is_not_null())
    counts = pl.DataFrame({"level": ["M", "F"]}).join(
        known.group_by(pl.col("sex").alias("level")).agg(pl.len().alias("count")),
        on="level",
        how="left",
    )
    counts = counts.with_columns(
        pl.col("count").fill_null(0).cast(pl.Int64),
        pl.lit(known.height, pl.Int64).alias("n"),
        pl.lit("sex").alias("variable"),
        pl.lit("categorical").alias("kind"),
    )
    return with_wilson(counts)
