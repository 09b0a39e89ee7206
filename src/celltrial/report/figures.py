"""Figures from Results, written as PNG and SVG: per-visit box plots with significance marks
(Lian 2022 Figure 2), safety labs (Figure 3), per-participant trajectories, dose-change bars and
an adverse-event timeline by infusion."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
import polars as pl

from celltrial.analysis.paired import METHOD_T
from celltrial.analysis.results import Results
from celltrial.report.tables import label

# Lian 2022 Figure 2 legend: "aP < 0.05, bP < 0.01" against baseline.
MARKS = ((0.01, "b"), (0.05, "a"))
DPI = 150


@dataclass(frozen=True)
class FigureFile:
    key: str
    title: str
    png: Path
    svg: Path


def _mark(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return next((m for limit, m in MARKS if p < limit), "")


def _grid(n: int) -> tuple[plt.Figure, list[plt.Axes]]:
    cols = min(3, max(n, 1))
    rows = math.ceil(max(n, 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _save(fig: plt.Figure, out: Path, key: str, title: str) -> FigureFile:
    fig.suptitle(title)
    fig.tight_layout()
    png, svg = out / f"{key}.png", out / f"{key}.svg"
    for path, fmt in ((png, "png"), (svg, "svg")):
        tmp = path.with_name(path.name + ".tmp")
        fig.savefig(tmp, format=fmt, dpi=DPI)
        tmp.replace(path)
    plt.close(fig)
    return FigureFile(key, title, png, svg)


def _boxes(r: Results, analytes: list[str], out: Path, key: str, title: str) -> FigureFile:
    """One panel per analyte, one box per scheduled visit, marks from the Wilcoxon p-values."""
    fig, axes = _grid(len(analytes))
    if r.values["participant_id"].n_unique() > FLIERS_MAX_N:
        title += f" (outliers beyond the whiskers not drawn above {FLIERS_MAX_N:,} values)"
    wil = r.paired.filter(pl.col("method") != METHOD_T)
    for ax, analyte in zip(axes, analytes, strict=True):  # one panel per outcome
        visits = r.summaries.filter(pl.col("analyte") == analyte)["visit_id"].to_list()
        v = r.values.filter(pl.col("analyte") == analyte)
        data = [v.filter(pl.col("visit_id") == vis)["value"].to_numpy() for vis in visits]
        fliers = max((len(x) for x in data), default=0) <= FLIERS_MAX_N
        ax.boxplot(data, tick_labels=visits, showfliers=fliers, widths=0.6)
        p = dict(wil.filter(pl.col("analyte") == analyte).select("visit_id", "p_value").iter_rows())
        for i, vis in enumerate(visits):  # marks just above the plot area, clear of outliers
            ax.text(
                i + 1,
                1.01,
                _mark(p.get(vis)),
                ha="center",
                va="bottom",
                transform=ax.get_xaxis_transform(),
                fontsize=10,
            )
        ax.set_title(label(analyte), fontsize=9, pad=14)
    return _save(fig, out, key, title)


# Above this many participants, trajectories show a random sample (seeded: the same sample
# each run) so that single lines stay readable; the title says so.
TRAJECTORY_SAMPLE = 60
# Above this many values in a box, outliers are not drawn one by one (they would merge).
FLIERS_MAX_N = 5000


def trajectory_sample(r: Results, k: int = TRAJECTORY_SAMPLE, seed: int = 0) -> list[str]:
    """participant_id of the participants drawn (all of them when there are at most k)."""
    ids = r.values["participant_id"].unique().sort()
    if ids.len() <= k:
        return ids.to_list()
    return ids.sample(k, seed=seed).sort().to_list()


def _trajectories(r: Results, analytes: list[str], out: Path) -> FigureFile:
    fig, axes = _grid(len(analytes))
    order = {v: i for i, v in enumerate(r.meta["visits"])}
    shown = trajectory_sample(r)
    total = r.values["participant_id"].n_unique()
    sample = r.values.filter(pl.col("participant_id").is_in(shown))
    for ax, analyte in zip(axes, analytes, strict=True):
        v = sample.filter(pl.col("analyte") == analyte).with_columns(
            pl.col("visit_id").replace_strict(order, default=None).alias("x")
        )
        wide = v.sort("x").pivot(on="participant_id", index="x", values="value").sort("x")
        x = wide["x"].to_numpy()
        y = wide.drop("x").to_numpy()
        ax.plot(x, y, marker="o", markersize=2, linewidth=0.7, alpha=0.6)
        ax.set_xticks(list(order.values()), list(order), fontsize=7)
        ax.set_title(label(analyte), fontsize=9)
    title = "Per-participant trajectories"
    if len(shown) < total:
        title += f" (random sample of {len(shown)} of {total:,} participants)"
    return _save(fig, out, "trajectories", title)


def _dose_bars(r: Results, out: Path) -> FigureFile:
    m = r.medication_categories.filter((pl.col("n") > 0) & (pl.col("count") > 0))
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    visits = m["visit_id"].unique(maintain_order=True).to_list()
    bottom = [0.0] * len(visits)
    for cat in m["category"].unique(maintain_order=True).to_list():
        pct = m.filter(pl.col("category") == cat)
        pct_by_visit = dict(pct.select("visit_id", "percent").iter_rows())
        h = [pct_by_visit.get(v, 0.0) for v in visits]
        ax.bar(visits, h, bottom=bottom, label=cat)
        bottom = [b + x for b, x in zip(bottom, h, strict=True)]
    ax.set_ylabel("participants, %")
    if visits:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.text(0.5, 0.5, "no medication data", ha="center", transform=ax.transAxes)
    return _save(fig, out, "dose_change", "Hypoglycaemic-agent dose change from baseline")


def _ae_timeline(r: Results, out: Path) -> FigureFile:
    ev = r.ae_events
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    if ev.height == 0:
        ax.text(0.5, 0.5, "no adverse events", ha="center", transform=ax.transAxes)
    else:
        days = (ev["hours_after_infusion"] / 24.0).to_numpy()
        number = ev["infusion_number"].fill_null(0).to_numpy()
        # small vertical offsets keep events at the same time and infusion apart
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(number))
        terms = ev["term"].to_numpy()
        for term in np.unique(terms):  # one series per AE term
            keep = terms == term
            ax.scatter(days[keep], number[keep] + jitter[keep], label=term, alpha=0.8)
        ax.axvline(1.0, color="grey", linestyle="--", linewidth=0.8)  # 24 h (Lian 2022 L198)
        top = int(max(number.max(), r.ae_by_infusion["infusion_number"].max() or 1))
        ax.set_yticks(range(1, top + 1))
        ax.set_xlabel("days after the infusion (dashed: 24 h)")
        ax.set_ylabel("infusion number")
        ax.legend(fontsize=7, loc="best")
    return _save(fig, out, "ae_timeline", "Adverse events by infusion and time after infusion")


def write_figures(r: Results, out: Path) -> list[FigureFile]:
    """Every figure as PNG and SVG in `out`; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    safety = r.meta["safety_labs"]
    efficacy = [a for a in r.meta["outcomes"] if a not in safety]
    figs = []
    if efficacy:
        figs.append(_boxes(r, efficacy, out, "outcomes_boxplots", "Outcomes per visit"))
        figs.append(_trajectories(r, efficacy[:6], out))
    if safety:
        figs.append(_boxes(r, safety, out, "safety_labs", "Safety laboratory values per visit"))
    figs.append(_dose_bars(r, out))
    figs.append(_ae_timeline(r, out))
    return figs
