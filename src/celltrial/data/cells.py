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
import pyarrow as pa
import pyarrow.compute as pc

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
        return pl.coalesce(_datetime_formats(spaced))
    return col.cast(dtype, strict=False)


def _datetime_formats(text: pl.Expr) -> list[pl.Expr]:
    return [
        text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False),
        text.str.to_datetime("%Y-%m-%d %H:%M", time_unit="us", strict=False),
        text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    ]


def _parse_datetimes(text: pl.Series) -> pl.Series:
    """Try one format over the column and the next ones only if some cells are left:
    a column written in one format (the usual case) is parsed once, not three times."""
    spaced = text.str.replace("T", " ", literal=True)
    parsed = pl.select(_datetime_formats(pl.lit(spaced))[0]).to_series()
    for fmt in _datetime_formats(pl.lit(spaced))[1:]:
        if parsed.null_count() == text.null_count():
            break
        parsed = pl.select(pl.coalesce(parsed, fmt)).to_series()
    return parsed.alias(text.name)


# Text lengths of the spellings both parsers read alike: YYYY-MM-DD, then (datetimes)
# YYYY-MM-DD[T ]HH:MM and YYYY-MM-DD[T ]HH:MM:SS (the format write_study writes).
_ISO_LENGTHS = {pl.Date: (10,), pl.Datetime: (10, 16, 19)}


def _iso_fast(text: pl.Series, dtype: pl.DataType) -> pl.Series | None:
    """Dates or date-times parsed by Arrow's ISO 8601 cast (~5x faster than strptime), or
    None when the lenient path must decide: a cell of another length (blanks, fractions,
    time zones) or one Arrow refuses (2020-02-30). Where it answers, it equals the lenient
    parse (tested on the same cells in tests/data)."""
    base = pl.Datetime if isinstance(dtype, pl.Datetime) else dtype
    lengths = _ISO_LENGTHS.get(base)
    if lengths is None or text.len() == 0:
        return None
    if not text.str.len_bytes().drop_nulls().is_in(list(lengths)).all():
        return None
    target = pa.date32() if base == pl.Date else pa.timestamp("us")
    try:
        parsed = pc.cast(text.to_arrow(), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pl.Series(text.name, parsed).cast(dtype)


def _rule(dtype: pl.DataType) -> str:
    base = pl.Datetime if isinstance(dtype, pl.Datetime) else dtype
    return _RULES.get(base, f"not a valid {dtype}")


# 7,5 typed for 7.5: a decimal comma and no other comma ("1,234.5" thousands and "7,5,1"
# lists do not match); semicolon files read it as 7.5, comma files get the hint
DECIMAL_COMMA = r"^(\s*[+-]?\d*),(\d+\s*)$"


def number_rule(text: pl.Expr, rule: str) -> pl.Expr:
    """The rule for a cell that is not a number, with the fix when it has a decimal comma."""
    hint = f"{rule} (decimal comma: write 7.5, not 7,5)"
    return pl.when(text.str.contains(DECIMAL_COMMA)).then(pl.lit(hint)).otherwise(pl.lit(rule))


def type_columns(
    frame: pl.DataFrame, schema: TableSchema, file: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast each schema column of `frame` to its dtype; findings for cells that did not fit.

    Text cells are stripped and empty ones become null. Columns already of the right dtype
    pass through untouched (the fast path for Parquet written by write_study).
    """
    typed_columns: list[pl.Series] = []
    found: list[pl.DataFrame] = []
    have = frame.schema  # built anew on each access: once, not once per column
    for col in schema.columns:
        if col.name not in have or have[col.name] == col.dtype:
            continue
        text, typed = _typed_column(frame, col.name, col.dtype)
        typed_columns.append(typed)
        if typed.null_count() > text.null_count():  # some filled cells did not fit
            cells = pl.DataFrame({"raw": frame[col.name], "text": text, "typed": typed})
            found.append(
                finding_rows(
                    cells,
                    pl.col("text").is_not_null() & pl.col("typed").is_null(),
                    severity=ERROR,
                    table=schema.name,
                    column=col.name,
                    value=pl.col("raw").cast(pl.Utf8),
                    rule=_cell_rule(col.dtype),
                    file=file,
                )
            )
    if not typed_columns:
        return frame, empty_findings()
    return frame.with_columns(typed_columns), concat_findings(found)


def _cell_rule(dtype: pl.DataType) -> str | pl.Expr:
    if dtype == pl.Float64:
        return number_rule(pl.col("raw").cast(pl.Utf8), _rule(dtype))
    return _rule(dtype)


def _typed_column(
    frame: pl.DataFrame, name: str, dtype: pl.DataType
) -> tuple[pl.Series, pl.Series]:
    """(the filled cells, the typed column); blank text counts as not filled."""
    if frame.schema[name] != pl.Utf8:
        raw = frame[name]
        return raw, raw.cast(dtype, strict=False)
    fast = _iso_fast(frame[name], dtype)
    if fast is not None:
        return frame[name], fast
    stripped = pl.col(name).str.strip_chars()
    text = frame.select(pl.when(stripped.str.len_bytes() > 0).then(stripped)).to_series()
    if isinstance(dtype, pl.Datetime):
        return text, _parse_datetimes(text)
    return text, pl.select(parse_text(pl.lit(text), dtype)).to_series().alias(name)
