"""Lenient typing of table cells: text read from a file becomes the schema's dtype, and
every cell that does not fit becomes a finding instead of an exception.

Accepted spellings (documented for coordinators):
- numbers: decimal point, optional exponent (1.5, 1e3); NaN and infinities are refused;
- booleans: true/false, yes/no, y/n, t/f, 1/0 (any case);
- dates: ISO 8601 YYYY-MM-DD;
- date-times: YYYY-MM-DD HH:MM[:SS[.ffffff]] with a space or a T, or a bare date (midnight).
"""

from __future__ import annotations

import polars as pl

from celltrial.data.findings import ERROR, concat_findings, empty_findings, finding_rows
from celltrial.data.schema import TableSchema

_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]

_RULES = {
    pl.Float64: "not a number",
    pl.Int64: "not a whole number",
    pl.Boolean: "not a yes/no value (true/false, yes/no, 1/0)",
    pl.Date: "not a date (YYYY-MM-DD)",
    pl.Datetime: "not a date-time (YYYY-MM-DD HH:MM[:SS])",
}


def parse_text(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Text -> dtype, null where the text does not fit (never raises)."""
    if dtype == pl.Utf8:
        return col
    if dtype == pl.Float64:
        x = col.cast(pl.Float64, strict=False)
        return pl.when(x.is_finite()).then(x)
    if dtype == pl.Int64:
        return col.cast(pl.Int64, strict=False)
    if dtype == pl.Boolean:
        low = col.str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
    if dtype == pl.Date:
        return col.str.to_date("%Y-%m-%d", strict=False)
    if isinstance(dtype, pl.Datetime):
        spaced = col.str.replace("T", " ", literal=True)
        return pl.coalesce(
            spaced.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False),
            spaced.str.to_datetime("%Y-%m-%d %H:%M", time_unit="us", strict=False),
            spaced.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
        )
    return col.cast(dtype, strict=False)


def _rule(dtype: pl.DataType) -> str:
    base = pl.Datetime if isinstance(dtype, pl.Datetime) else dtype
    return _RULES.get(base, f"not a valid {dtype}")


def type_columns(
    frame: pl.DataFrame, schema: TableSchema, file: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast each schema column of `frame` to its dtype; findings for cells that did not fit.

    Text cells are stripped and empty ones become null. Columns already of the right dtype
    pass through untouched (the fast path for Parquet written by write_study).
    """
    casts: list[pl.Expr] = []
    checks: list[tuple[str, pl.DataType]] = []
    for col in schema.columns:
        if col.name not in frame.columns:
            continue
        have = frame.schema[col.name]
        if have == col.dtype:
            continue
        if have == pl.Utf8:
            text = pl.col(col.name).str.strip_chars()
            text = pl.when(text.str.len_bytes() > 0).then(text)
            casts.append(parse_text(text, col.dtype).alias(col.name))
        else:
            casts.append(pl.col(col.name).cast(col.dtype, strict=False).alias(col.name))
        checks.append((col.name, col.dtype))
    if not casts:
        return frame, empty_findings()
    typed = frame.with_columns(casts)
    found = [
        finding_rows(
            pl.DataFrame({"raw": frame[name], "typed": typed[name]}),
            pl.col("raw").is_not_null()
            & (pl.col("raw").cast(pl.Utf8).str.strip_chars().str.len_bytes() > 0)
            & pl.col("typed").is_null(),
            severity=ERROR,
            table=schema.name,
            column=name,
            value=pl.col("raw").cast(pl.Utf8),
            rule=_rule(dtype),
            file=file,
        )
        for name, dtype in checks
    ]
    return typed, concat_findings(found)
