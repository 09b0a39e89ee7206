"""Holm's step-down adjustment of p-values within families (Holm S. Scand J Stat 1979;6:65-70)."""

from __future__ import annotations

import polars as pl


def holm(frame: pl.DataFrame, family: list[str], p: str = "p_value") -> pl.Series:
    """Holm-adjusted p-values of column `p`, one family per distinct value of `family`.

    Sorted ascending within a family of m tests, p_(i) becomes max_{j<=i} min(1, (m - j + 1) p_(j)).
    Missing p-values are left missing and do not count in m.
    """
    idx = frame.with_row_index("_row")
    valid = idx.filter(pl.col(p).is_not_null() & ~pl.col(p).is_nan()).sort([*family, p])
    adjusted = valid.with_columns(
        ((pl.len().over(family) - pl.int_range(pl.len()).over(family)) * pl.col(p)).alias("_scaled")
    ).with_columns(pl.col("_scaled").cum_max().over(family).clip(upper_bound=1.0).alias("_holm"))
    out = idx.join(adjusted.select("_row", "_holm"), on="_row", how="left").sort("_row")
    return out["_holm"].alias("p_holm")
