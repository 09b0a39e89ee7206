"""Figures from Results, written as PNG and SVG: per-visit box plots with significance marks
(Lian 2022 Figure 2), safety labs (Figure 3), per-participant trajectories, dose-change bars and
an adverse-event timeline by infusion. One sober style: black and greys, one blue scale for
the dose categories, display units and visit names from report.labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.collections import LineCollection

from celltrial.analysis.medication import CATEGORIES
from celltrial.analysis.paired import METHOD_T
from celltrial.analysis.results import Results
from celltrial.report.labels import label, visit_names
from celltrial.report.simulated import marked

# Lian 2022 Figure 2 legend (L260): "aP < 0.05, bP < 0.01" against baseline; the P used is
# the Holm-adjusted one, as the methods state.
MARKS = ((0.01, "b"), (0.05, "a"))
MARK_KEY = "a P < 0.05, b P < 0.01 against baseline (Wilcoxon signed-rank test, Holm-adjusted P)."
BOX_KEY = (
    "Boxes: median and quartiles (type 6); whiskers: values within 1.5 × IQR of the box; "
    "n: participants with a value."
)
DPI = 150
WHISKER_IQR = 1.5  # Tukey's fences (Tukey JW. Exploratory Data Analysis, 1977)
STYLE = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=["black", "0.45", "0.7"]),
    "legend.frameon": False,
    "svg.hashsalt": "celltrial",  # the same ids on every run
}
# Dose categories, bottom of the stack to top: reductions in one blue scale, the rest greys.
DOSE_COLOURS = dict(
    zip(
        CATEGORIES,
        ("#08306b", "#2171b5", "#9ecae1", "0.85", "0.55", "white", "white"),
        strict=True,
    )
)
DOSE_HATCH = {CATEGORIES[5]: "//", CATEGORIES[6]: "xx"}  # no agent, not classifiable
# Above this many participants, trajectories show a seeded random sample (the same each run)
# so that single lines stay readable; the title says so. The median line uses everyone.
TRAJECTORY_SAMPLE = 300
# Above this many values in a box, outliers are not drawn one by one (they would merge).
FLIERS_MAX_N = 5000


@dataclass(frozen=True)
class FigureFile:
    key: str
    title: str
    caption: str
    png: Path
    svg: Path
    panels: tuple[str, ...] = ()  # the analyte of each panel, in drawing order


def _mark(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return next((m for limit, m in MARKS if p < limit), "")


def visit_marks(r: Results, analyte: str) -> dict[str, str]:
    """visit_id -> "a", "b" or "" from the Holm-adjusted Wilcoxon P against baseline."""
    wil = r.paired.filter(
        (pl.col("method") != METHOD_T)
        & (pl.col("subgroup") == "all")
        & (pl.col("analyte") == analyte)
    )
    return {v: _mark(p) for v, p in wil.select("visit_id", "p_holm").iter_rows()}


def _grid(n: int) -> tuple[plt.Figure, list[plt.Axes]]:
    cols = min(3, max(n, 1))
    rows = math.ceil(max(n, 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.5 * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _save(
    fig: plt.Figure,
    out: Path,
    key: str,
    title: str,
    caption: str,
    footer: str = "",
    panels: tuple[str, ...] = (),
) -> FigureFile:
    """Title on top, the key (footer) inside the image under the panels, PNG and SVG."""
    fig.suptitle(title, fontsize=10)
    bottom = 0.0
    if footer:
        width, height = fig.get_size_inches()
        per_line = width * 15  # characters of 7-point text per inch, about
        lines = sum(math.ceil(len(part) / per_line) for part in footer.split("\n"))
        bottom = min((0.13 * lines + 0.05) / height, 0.3)  # 0.13 inch per line of key
        fig.text(0.01, 0.01, footer, ha="left", va="bottom", fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    png, svg = out / f"{key}.png", out / f"{key}.svg"
    for path, fmt in ((png, "png"), (svg, "svg")):
        tmp = path.with_name(path.name + ".tmp")
        fig.savefig(tmp, format=fmt, dpi=DPI)
        tmp.replace(path)
    plt.close(fig)
    return FigureFile(key, title, caption, png, svg, panels)


def _box_stats(x: np.ndarray, q1: float, med: float, q3: float, fliers: bool) -> dict:
    """Box of the table's own quartiles (type 6), whiskers at the last values within
    1.5 IQR of the box (Tukey), outliers beyond them."""
    iqr = q3 - q1
    inside = x[(x >= q1 - WHISKER_IQR * iqr) & (x <= q3 + WHISKER_IQR * iqr)]
    lo, hi = (inside.min(), inside.max()) if inside.size else (q1, q3)
    out = x[(x < lo) | (x > hi)] if fliers else np.empty(0)
    return {"med": med, "q1": q1, "q3": q3, "whislo": lo, "whishi": hi, "fliers": out}


def _boxes(r: Results, analytes: list[str], out: Path, key: str, title: str) -> FigureFile:
    """One panel per analyte, one box per visit with values, marks from Holm-adjusted P."""
    fig, axes = _grid(len(analytes))
    big = r.values["participant_id"].n_unique() > FLIERS_MAX_N
    names = visit_names(r.meta["visits"], r.meta.get("visit_labels"))
    for ax, analyte in zip(axes, analytes, strict=True):  # one panel per outcome
        s = r.summaries.filter((pl.col("analyte") == analyte) & (pl.col("n") > 0))
        v = r.values.filter(pl.col("analyte") == analyte)
        rows = s.iter_rows(named=True)  # one box per visit with values
        stats = [
            _box_stats(
                v.filter(pl.col("visit_id") == row["visit_id"])["value"].to_numpy(),
                row["q1"],
                row["median"],
                row["q3"],
                not big,
            )
            for row in rows
        ]
        visits, counts = s["visit_id"].to_list(), s["n"].to_list()
        if stats:
            ax.bxp(
                stats,
                widths=0.6,
                patch_artist=True,
                boxprops={"facecolor": "0.92", "edgecolor": "black", "linewidth": 0.8},
                medianprops={"color": "black", "linewidth": 1.6},
                whiskerprops={"linewidth": 0.8},
                capprops={"linewidth": 0.8},
                flierprops={"marker": "o", "markersize": 2.5, "markerfacecolor": "none"},
            )
        ticks = [f"{names.get(x, x)}\nn = {n:,}" for x, n in zip(visits, counts, strict=True)]
        ax.set_xticks(range(1, len(visits) + 1), ticks)
        marks = visit_marks(r, analyte)
        _place_marks(ax, [marks.get(x, "") for x in visits], stats)
        ax.set_title(label(analyte))
        ax.set_xlabel("Visit")
    title = marked(r.meta, title)
    caption = f"{title}. {BOX_KEY} {MARK_KEY}"
    if big:
        caption += f" Outliers beyond the whiskers not drawn above {FLIERS_MAX_N:,} values."
    footer = f"{BOX_KEY}\n{MARK_KEY}"
    return _save(fig, out, key, title, caption, footer, tuple(analytes))


def _place_marks(ax: plt.Axes, marks: list[str], stats: list[dict]) -> None:
    """Each letter just above its box's highest drawn point, inside the panel (the y range
    grows to make room), so it never meets the panel title."""
    if not any(marks):
        return
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.1 * (hi - lo))
    for i, (m, st) in enumerate(zip(marks, stats, strict=True)):
        if m:
            top = max(st["whishi"], *(st["fliers"] if len(st["fliers"]) else [st["whishi"]]))
            ax.annotate(
                m,
                (i + 1, top),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                fontweight="bold",
            )


def trajectory_sample(r: Results, k: int = TRAJECTORY_SAMPLE, seed: int = 0) -> list[str]:
    """participant_id of the participants drawn (all of them when there are at most k)."""
    ids = r.values["participant_id"].unique().sort()
    if ids.len() <= k:
        return ids.to_list()
    return ids.sample(k, seed=seed).sort().to_list()


def _trajectories(
    r: Results, analytes: list[str], out: Path, key: str = "trajectories", what: str = ""
) -> FigureFile:
    """Thin grey line per participant, the median of everyone in bold black on top; one
    panel per analyte in `analytes` (the grid grows with them, none is left out)."""
    fig, axes = _grid(len(analytes))
    order = {v: i for i, v in enumerate(r.meta["visits"])}
    names = visit_names(r.meta["visits"], r.meta.get("visit_labels"))
    shown = trajectory_sample(r)
    total = r.values["participant_id"].n_unique()
    sample = r.values.filter(pl.col("participant_id").is_in(shown))
    for ax, analyte in zip(axes, analytes, strict=True):  # one panel per outcome
        v = sample.filter(pl.col("analyte") == analyte).with_columns(
            pl.col("visit_id").replace_strict(order, default=None).alias("x")
        )
        wide = v.sort("x").pivot(on="participant_id", index="x", values="value").sort("x")
        y = wide.drop("x").to_numpy().T  # participants x visits; NaN (missed visit) breaks a line
        x = np.broadcast_to(wide["x"].to_numpy().astype(float), y.shape)
        # one collection of all lines: a Line2D per participant made rendering the slow part
        ax.add_collection(
            LineCollection(np.stack([x, y], axis=-1), colors="0.6", lw=0.4, alpha=0.5)
        )
        ax.autoscale_view()
        med = r.summaries.filter((pl.col("analyte") == analyte) & (pl.col("n") > 0))
        x = [order[vis] for vis in med["visit_id"]]
        ax.plot(x, med["median"].to_numpy(), color="black", lw=2.2, marker="o", ms=4)
        ax.set_xticks(x, [names.get(vis, vis) for vis in med["visit_id"]])
        ax.set_title(label(analyte))
        ax.set_xlabel("Visit")
    title = f"Per-participant trajectories{what}"
    if len(shown) < total:
        title += f" (random sample of {len(shown)} of {total:,} participants)"
    title = marked(r.meta, title)
    legend = "Grey: one line per participant; black: median of all participants at each visit."
    return _save(fig, out, key, title, f"{title}. {legend}", legend, tuple(analytes))


def _dose_bars(r: Results, out: Path) -> FigureFile:
    """Stacked percentages per visit in the fixed category order; legend top = stack top."""
    m = r.medication_categories.filter((pl.col("n") > 0) & (pl.col("count") > 0))
    names = visit_names(r.meta["visits"], r.meta.get("visit_labels"))
    fig, ax = plt.subplots(figsize=(6.8, 3.6))
    visits = m["visit_id"].unique(maintain_order=True).to_list()
    present = set(m["category"].to_list())
    bottom = np.zeros(len(visits))
    for cat in [c for c in CATEGORIES if c in present]:  # bottom of the stack first
        pct = dict(m.filter(pl.col("category") == cat).select("visit_id", "percent").iter_rows())
        h = np.array([pct.get(v, 0.0) for v in visits])
        ax.bar(
            [names.get(v, v) for v in visits],
            h,
            bottom=bottom,
            label=cat,
            color=DOSE_COLOURS[cat],
            edgecolor="black",
            linewidth=0.5,
            hatch=DOSE_HATCH.get(cat),
        )
        bottom += h
    ax.set_ylabel("Participants, %")
    ax.set_xlabel("Visit")
    if visits:
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no medication data", ha="center", transform=ax.transAxes)
    title = marked(r.meta, "Hypoglycaemic-agent dose change from baseline")
    caption = f"{title}: total dose as fractions of WHO defined daily doses, per visit."
    return _save(fig, out, "dose_change", title, caption)


def _ae_timeline(r: Results, out: Path) -> FigureFile:
    ev = r.ae_events
    fig, ax = plt.subplots(figsize=(6.8, 3.6))
    if ev.height == 0:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No adverse events were recorded.", ha="center", transform=ax.transAxes)
    else:
        days = (ev["hours_after_infusion"] / 24.0).to_numpy()
        number = ev["infusion_number"].fill_null(0).to_numpy()
        # small vertical offsets keep events at the same time and infusion apart
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(number))
        terms = ev["term"].to_numpy()
        markers = "osD^vP*X"
        for k, term in enumerate(np.unique(terms)):  # one series per AE term
            keep = terms == term
            ax.scatter(
                days[keep],
                number[keep] + jitter[keep],
                label=term,
                marker=markers[k % len(markers)],
                facecolors="none",
                edgecolors="black" if k < len(markers) else "0.5",
                linewidths=0.8,
                s=18,
            )
        ax.axvline(1.0, color="0.5", linestyle="--", linewidth=0.8)  # 24 h (Lian 2022 L202)
        top = int(max(number.max(), r.ae_by_infusion["infusion_number"].max() or 1))
        ax.set_yticks(range(1, top + 1))
        ax.set_xlabel("Days after the infusion (dashed line: 24 h)")
        ax.set_ylabel("Infusion number")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    title = marked(r.meta, "Adverse events by infusion and time after infusion")
    return _save(fig, out, "ae_timeline", title, f"{title}; each marker one event.")


def write_figures(r: Results, out: Path) -> list[FigureFile]:
    """Every figure as PNG and SVG in `out`; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    safety = r.meta["safety_labs"]
    efficacy = [a for a in r.meta["outcomes"] if a not in safety]
    figs = []
    with plt.rc_context(STYLE):
        if efficacy:
            figs.append(_boxes(r, efficacy, out, "outcomes_boxplots", "Outcomes per visit"))
            figs.append(_trajectories(r, efficacy, out))
        if safety:
            title = "Safety laboratory values per visit"
            figs.append(_boxes(r, safety, out, "safety_labs", title))
            what = ", safety laboratory values"
            figs.append(_trajectories(r, safety, out, "safety_trajectories", what))
        figs.append(_dose_bars(r, out))
        figs.append(_ae_timeline(r, out))
    return figs
