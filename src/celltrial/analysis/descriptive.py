"""Descriptive statistics: n, mean, SD, median and quartiles per group, vectorized in Polars.

Quartiles follow SPSS's default (HAVERAGE): the weighted average at position (n + 1)p, which is
Hyndman & Fan's type 6 (Hyndman RJ, Fan Y. Am Stat 1996;50:361-5) and NumPy's method="weibull".
"""

from __future__ import annotations

import polars as pl

# Named in the results so a reader knows which of the nine textbook definitions was used.
QUANTILE_DEFINITION = "SPSS HAVERAGE: weighted average at (n+1)p (Hyndman & Fan 1996 type 6)"


def quantile_type6(column: str, p: float, presorted: bool = False) -> pl.Expr:
    """The p-quantile of `column` inside a group_by/agg, by Hyndman & Fan type 6.

    h = (n + 1)p; Q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]), with x the sorted
    values (1-indexed) and h clamped to [1, n] (Hyndman & Fan 1996, definition 6).
    presorted: the frame is already sorted by `column` with no nulls or NaNs (group_by keeps
    row order within groups), so no group is sorted again.
    """
    x = pl.col(column) if presorted else pl.col(column).drop_nulls().drop_nans().sort()
    n = x.len()
    h = (n + 1).cast(pl.Float64) * p
    lo = h.floor().clip(1, n).cast(pl.Int64)
    hi = (lo + 1).clip(upper_bound=n)
    frac = (h - lo).clip(0.0, 1.0)
    return pl.when(n > 0).then(x.get(lo - 1) + frac * (x.get(hi - 1) - x.get(lo - 1)))


def summary_exprs(column: str = "value", presorted: bool = False) -> list[pl.Expr]:
    """n, mean, SD (n - 1 denominator, as SPSS), median, Q1, Q3, min, max of `column`."""
    x = pl.col(column) if presorted else pl.col(column).drop_nulls().drop_nans()
    return [
        x.len().alias("n"),
        x.mean().alias("mean"),
        x.std(ddof=1).alias("sd"),
        quantile_type6(column, 0.5, presorted).alias("median"),
        quantile_type6(column, 0.25, presorted).alias("q1"),
        quantile_type6(column, 0.75, presorted).alias("q3"),
        x.min().alias("min"),
        x.max().alias("max"),
    ]


def _reason(n: pl.Expr) -> pl.Expr:
    return (
        pl.when(n == 0)
        .then(pl.lit("no values"))
        .when(n == 1)
        .then(pl.lit("n = 1: SD undefined"))
        .otherwise(pl.lit(None, pl.Utf8))
    )


def summarize(values: pl.DataFrame, by: list[str], column: str = "value") -> pl.DataFrame:
    """One row per group of `by` present in `values`, with the summary columns and a reason.

    The frame is sorted once by value (one global sort instead of three per group)."""
    x = pl.col(column)
    valid = values.filter(x.is_not_null() & ~x.is_nan()).sort(column)
    out = valid.group_by(by).agg(summary_exprs(column, presorted=True))
    if valid.height < values.height:  # groups with only missing values keep a row, n = 0
        out = values.select(by).unique(maintain_order=True).join(out, on=by, how="left")
        out = out.with_columns(pl.col("n").fill_null(0).cast(pl.UInt32))
    else:
        out = out.sort(by)
    return out.with_columns(_reason(pl.col("n")).alias("reason"))


def summarize_per_visit(
    values: pl.DataFrame, analytes: list[str], visits: list[str]
) -> pl.DataFrame:
    """Per analyte and visit: n, mean, SD, median, Q1, Q3 (type 6), in protocol visit order.

    Every (analyte, visit) pair appears, even one nobody attended (n = 0 and a reason), so a
    table or figure built from it always has the full grid.
    """
    grid = pl.DataFrame({"analyte": analytes}).join(
        pl.DataFrame({"visit_id": visits, "visit_order": list(range(len(visits)))}),
        how="cross",
    )
    stats = summarize(values, ["analyte", "visit_id"])
    out = grid.join(stats, on=["analyte", "visit_id"], how="left").with_columns(
        pl.col("n").fill_null(0).cast(pl.Int64)
    )
    out = out.with_columns(_reason(pl.col("n")).alias("reason"))
    order = {a: i for i, a in enumerate(analytes)}
    return (
        out.with_columns(pl.col("analyte").replace_strict(order, default=None).alias("_a"))
        .sort("_a", "visit_order")
        .drop("_a", "visit_order")
    )
