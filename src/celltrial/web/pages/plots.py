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
    """One plot per analyte measured (time, value in canonical units)."""
    rows = measurements.filter(pl.col("value").is_not_null()).sort("analyte", "time")
    return [
        _plot(str(key[0]), group)
        for key, group in rows.group_by("analyte", maintain_order=True)  # one per analyte
    ]


def _plot(analyte: str, rows: pl.DataFrame) -> Plot:
    t = rows["time"].dt.epoch("s").cast(pl.Float64)
    v = rows["value"]
    t_span = max(t.max() - t.min(), 1.0)
    lo, hi = v.min(), v.max()
    v_span = max(hi - lo, abs(hi) * 0.1, 1e-9)
    xy = rows.select(
        ((t - t.min()) / t_span * (WIDTH - 2 * PAD) + PAD).round(1).alias("x"),
        (HEIGHT - PAD - (v - lo) / v_span * (HEIGHT - 2 * PAD)).round(1).alias("y"),
        pl.format("{} {}", pl.col("time").dt.date(), v.round(2)).alias("label"),
    )
    points = " ".join(xy.select(pl.format("{},{}", "x", "y")).to_series().to_list())
    found = ANALYTES.get(analyte)
    return Plot(
        analyte=analyte,
        name=found.name if found else analyte,
        unit=rows["unit"][0] or "",
        points=points,
        dots=xy.to_dicts(),
        y_min=f"{lo:g}",
        y_max=f"{hi:g}",
        first=str(rows["time"].min().date()),
        last=str(rows["time"].max().date()),
    )
