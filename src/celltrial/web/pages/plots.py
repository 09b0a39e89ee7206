"""A participant's values of one analyte over time as inline SVG (drawn on the server,
nothing loaded from the network), with the analyte's plausible range shaded."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from celltrial.clinical.analytes import ANALYTES

WIDTH, HEIGHT, PAD = 320, 120, 28  # px; fits two plots side by side at tablet width


@dataclass
class Plot:
    analyte: str
    name: str
    unit: str
    points: str  # SVG polyline points
    dots: list[dict]  # x, y, label
    y_min: str
    y_max: str
    first: str
    last: str
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


def analyte_plots(measurements: pl.DataFrame) -> list[Plot]:
    """One plot per analyte measured (time, value in canonical units), all computed in one
    grouped step: a step per analyte cost more than the drawing."""
    t = pl.col("time").dt.epoch("s").cast(pl.Float64)
    v = pl.col("value")
    t_span = pl.max_horizontal(t.max() - t.min(), pl.lit(1.0))
    v_span = pl.max_horizontal(v.max() - v.min(), v.max().abs() * 0.1, pl.lit(1e-9))
    x = ((t - t.min()) / t_span * (WIDTH - 2 * PAD) + PAD).round(1)
    y = (HEIGHT - PAD - (v - v.min()) / v_span * (HEIGHT - 2 * PAD)).round(1)
    label = pl.format("{} {}", pl.col("time").dt.date(), v.round(2))
    per_analyte = (
        measurements.filter(v.is_not_null())
        .sort("analyte", "time")
        .group_by("analyte", maintain_order=True)
        .agg(
            pl.format("{},{}", x, y).str.join(" ").alias("points"),
            pl.struct(x.alias("x"), y.alias("y"), label.alias("label")).alias("dots"),
            pl.col("unit").first(),
            v.min().alias("lo"),
            v.max().alias("hi"),
            pl.col("time").min().dt.date().alias("first"),
            pl.col("time").max().dt.date().alias("last"),
        )
    )
    return [_plot(row) for row in per_analyte.iter_rows(named=True)]


def _plot(row: dict) -> Plot:
    found = ANALYTES.get(row["analyte"])
    return Plot(
        analyte=row["analyte"],
        name=found.name if found else row["analyte"],
        unit=row["unit"] or "",
        points=row["points"],
        dots=row["dots"],
        y_min=f"{row['lo']:g}",
        y_max=f"{row['hi']:g}",
        first=str(row["first"]),
        last=str(row["last"]),
    )
