"""Measurements in canonical units: the value and unit as entered are kept, the value in
the analyte's canonical unit is computed by a join on a small (analyte, unit) factor table
built from the catalogue's to_canonical_factors (the one converter, DESIGN.md)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import polars as pl

from celltrial.clinical.analytes import ANALYTES, to_canonical_factors
from celltrial.clinical.units import accepted_spellings


@cache
def unit_factors() -> pl.DataFrame:
    """One row per (analyte, accepted unit or alias of one, clinical.units): factor and offset
    to the canonical unit.

    `unit_key` is the unit lower-cased so "mg/dl" and "mmol/l" match; the catalogue keeps
    lower-cased units distinct within an analyte (checked in tests/data).
    """
    rows = [
        (a.id, spelling, conv.factor, conv.offset, a.unit)
        for a in ANALYTES.values()  # the catalogue: a few dozen rows, not data rows
        for spelling, code in accepted_spellings(a.id).items()
        for conv in [to_canonical_factors(a.id, code)]
    ]
    return pl.DataFrame(
        rows,
        schema={
            "analyte": pl.Utf8,
            "unit_key": pl.Utf8,
            "factor": pl.Float64,
            "offset": pl.Float64,
            "canonical_unit": pl.Utf8,
        },
        orient="row",
    ).with_columns(pl.col("unit_key").str.to_lowercase())


@cache
def analyte_ranges() -> pl.DataFrame:
    """Possible (error outside) and plausible (warning outside) ranges, canonical units."""
    return pl.DataFrame(
        {
            "analyte": list(ANALYTES),
            "possible_lo": [a.possible[0] for a in ANALYTES.values()],
            "possible_hi": [a.possible[1] for a in ANALYTES.values()],
            "plausible_lo": [a.plausible[0] for a in ANALYTES.values()],
            "plausible_hi": [a.plausible[1] for a in ANALYTES.values()],
            "canonical_unit": [a.unit for a in ANALYTES.values()],
        }
    )


def entry_columns(measurements: pl.DataFrame) -> pl.DataFrame:
    """Fill value_as_entered/unit_as_entered from value/unit where nothing was entered.

    A row's entry is (value_as_entered, unit_as_entered) when value_as_entered is filled,
    else (value, unit): files from an import carry the entry in value/unit, files written
    by write_study carry both and the entry wins, so reading is idempotent.
    """
    for name in ("value", "unit", "value_as_entered", "unit_as_entered"):
        if name not in measurements.columns:
            measurements = measurements.with_columns(pl.lit(None, pl.Utf8).alias(name))
    if _entry_complete(measurements):
        return measurements  # every row carries its entry: nothing to fill (files we wrote)
    text = {n: pl.col(n).cast(pl.Utf8) for n in ("value", "unit", "unit_as_entered")}
    value_entered = pl.col("value_as_entered").cast(pl.Utf8)
    entered = value_entered.is_not_null()
    return measurements.with_columns(
        pl.when(entered).then(value_entered).otherwise(text["value"]).alias("value_as_entered"),
        # an empty value keeps the unit entered beside it: on the second pass (to_canonical
        # after typing) `unit` is null and the entry unit lives only in unit_as_entered
        pl.when(entered)
        .then(pl.coalesce(text["unit_as_entered"], text["unit"]))
        .otherwise(pl.coalesce(text["unit"], text["unit_as_entered"]))
        .alias("unit_as_entered"),
    )


_ENTRY_PAIRS = (("value", "value_as_entered"), ("unit", "unit_as_entered"))


def entry_names(columns: list[str]) -> dict[str, str]:
    """Schema column -> the file column its data came from, for the entry pairs of which a
    file has only one (value or value_as_entered, unit or unit_as_entered): findings about
    the absent one must name the column the user wrote."""
    have = set(columns)
    names = {}
    for stored, entered in _ENTRY_PAIRS:
        if stored in have and entered not in have:
            names[entered] = stored
        if entered in have and stored not in have:
            names[stored] = entered
    return names


def _entry_complete(measurements: pl.DataFrame) -> bool:
    entry = measurements.select("value_as_entered", "unit_as_entered")
    text = all(t == pl.Utf8 for t in entry.schema.values())
    return text and sum(entry.null_count().row(0)) == 0


def lookup(keys: pl.DataFrame, build: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """Per-row columns computed once per distinct key: `build` sees the few distinct key
    rows (a study has a few dozen (analyte, unit) pairs), and the result is joined back in
    row order on the raw key columns; string work is never done per data row."""
    on = keys.columns
    # hash each key row once, build on the first row of each distinct hash, gather back by
    # position: ~7x faster than unique() + join() over millions of string keys
    hashes = keys.select(pl.struct(on).hash())[:, 0]
    first = hashes.arg_unique()
    distinct = keys[first]
    slot = hashes.replace_strict(
        hashes.gather(first), pl.int_range(first.len(), eager=True), return_dtype=pl.UInt32
    )
    if not distinct[slot].equals(keys):  # a 64-bit hash collision: fall back to exact keys
        table = build(keys.unique())
        joined = keys.join(table, on=on, how="left", maintain_order="left", nulls_equal=True)
        return joined.drop(on)
    table = distinct.with_row_index("_slot").join(
        build(distinct), on=on, how="left", nulls_equal=True
    )
    return table.sort("_slot").drop("_slot", *on)[slot]


def _factors_for(pairs: pl.DataFrame) -> pl.DataFrame:
    return (
        pairs.with_columns(
            pl.col("unit_as_entered").str.strip_chars().str.to_lowercase().alias("unit_key")
        )
        .join(unit_factors(), on=["analyte", "unit_key"], how="left")
        .drop("unit_key")
    )


def to_canonical(measurements: pl.DataFrame) -> pl.DataFrame:
    """value and unit in the canonical unit, from the entry (null where it cannot convert)."""
    entry = entry_columns(measurements)
    factors = lookup(entry.select("analyte", "unit_as_entered"), _factors_for)
    entered = entry["value_as_entered"].str.strip_chars().cast(pl.Float64, strict=False)
    value = entered * factors["factor"] + factors["offset"]
    value = pl.select(pl.when(value.is_finite()).then(value)).to_series()
    converted = entry.with_columns(value.alias("value"), factors["canonical_unit"].alias("unit"))
    # indexing by name, not select(): select reads a header such as "*" as every column
    return converted[measurements.columns]
