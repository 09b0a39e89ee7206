"""Trial-by-trial predictive check: is the published trial a typical draw of the simulator?

K independent trials of the published size are simulated at once; every published statistic
(Table 1 mean and SD, median and quartiles, whether a change from baseline was significant,
counts of dose reductions, of men and of adverse events) is computed in every simulated trial by
the code the analysis uses (celltrial.analysis.descriptive for means, SDs and SPSS quartiles,
celltrial.analysis.wilcoxon for the signed-rank test, read as SPSS 25's asymptotic p as in
the paper), vectorized across trials. A published
number passes when it lies in the central 95 % of the simulated trials' values; a published test
outcome passes when at least 2.5 % of the simulated trials show it (the same one-sided 2.5 % as
the range). Under a true model each row still fails by chance about 5 % of the time, so a check
of some 60 rows is an envelope the preset must fit, not a test at 5 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from celltrial.analysis.descriptive import summary_of_sorted
from celltrial.analysis.ranking import at_precision
from celltrial.analysis.wilcoxon import signed_rank
from celltrial.simulate.calibrate import CohortSummary, dose_category, subgroup_mask, summarise
from celltrial.simulate.physiology import Array
from celltrial.simulate.preset import Preset, load_targets
from celltrial.simulate.virtual_trials import simulate_trials

# Central range of the simulated trials a published number must fall in (issue 10: 95 %).
RANGE = (0.025, 0.975)
# A published test outcome must occur in at least this share of simulated trials: the
# one-sided 2.5 % of the central 95 % range above.
MIN_SHARE = 0.025
# Lian 2022 L174: "P < 0.05 was considered statistically significant".
ALPHA = 0.05
# Calibration loss: a number past EDGE of its half-range costs EDGE_WEIGHT times more (a
# margin inside the 95 % range, our choice [A]).
EDGE, EDGE_WEIGHT = 0.8, 10.0

CHECK_SCHEMA = {
    "kind": pl.Utf8,
    "quantity": pl.Utf8,
    "visit": pl.Utf8,
    "published": pl.Float64,  # the number, or 1/0 for a (non-)significant change
    "low": pl.Float64,  # 2.5 % of simulated trials (null for a test outcome)
    "median": pl.Float64,  # median simulated trial (null for a test outcome)
    "high": pl.Float64,  # 97.5 %
    "share": pl.Float64,  # share of simulated trials showing the published test outcome
    "ok": pl.Boolean,
    "source": pl.Utf8,
}

# Kinds of row, as printed.
MEAN, SD = "mean", "SD"
QUANTILE_KINDS = {"median": "median", "q1": "Q1", "q3": "Q3"}
SIGNIFICANT, NOT_SIGNIFICANT = "significant change", "no significant change"
COUNT, DIRECTION = "count per trial", "direction"


@dataclass(frozen=True)
class PerTrial:
    """Statistics of every simulated trial: (kind, quantity, visit) -> (T,) values."""

    values: dict[tuple[str, str, str], Array]


def _key(quantity: str, visit: str) -> str:
    return f"{quantity}@{visit}"


def _long(summary: CohortSummary, pairs: list[tuple[str, str]]) -> pl.DataFrame:
    """(key, trial, value) of the measured values at each (quantity, visit), finite only."""
    frames = []
    for q, v in pairs:  # one step per published statistic, each over all trials at once
        x = summary.values[q][summary.visit_ids.index(v)]
        t = np.broadcast_to(np.arange(x.shape[0])[:, None], x.shape)
        keep = np.isfinite(x)
        frames.append(pl.DataFrame({"key": _key(q, v), "trial": t[keep], "value": x[keep]}))
    return pl.concat(frames)


def _by_trial(frame: pl.DataFrame, column: str, key: str, n_trials: int) -> Array:
    """The (T,) column of one key, NaN for a trial without values."""
    out = np.full(n_trials, np.nan)
    part = frame.filter(pl.col("key") == key)
    out[part["trial"].to_numpy()] = part[column].cast(pl.Float64).fill_null(np.nan).to_numpy()
    return out


def descriptives(summary: CohortSummary, pairs: list[tuple[str, str]]) -> pl.DataFrame:
    """n, mean, SD, median, Q1, Q3 per (key, trial), as the analysis computes them."""
    if not pairs:
        return pl.DataFrame(schema={"key": pl.Utf8, "trial": pl.Int64})
    grouped = _long(summary, pairs).group_by("key", "trial").agg(pl.col("value").sort())
    return grouped.select("key", "trial", *summary_of_sorted(pl.col("value")))


# the summary's names of the C-peptide HOMA indices, as catalogue analytes
CATALOGUE_ID = {"homa_ir": "homa_cp_ir", "homa_b": "homa_cp_b"}


def change_tests(summary: CohortSummary, pairs: list[tuple[str, str]]) -> pl.DataFrame:
    """Wilcoxon signed-rank test of each visit against baseline, per (key, trial): the
    paper's test (L173 "Wilcoxon test", paired on the same 16 patients), two-sided; p_spss is
    the asymptotic p the paper's SPSS 25 reports (NaN when there is no non-zero change)."""
    if not pairs:
        return pl.DataFrame(schema={"key": pl.Utf8, "trial": pl.Int64})
    base = summary.sim.design.baseline
    frames = []
    for q, v in pairs:  # one step per published test, each over all trials at once
        vals = summary.values[q]
        # ranked as the analysis ranks them: rounded to the analyte's reporting precision
        d = at_precision(vals[summary.visit_ids.index(v)] - vals[base], CATALOGUE_ID.get(q, q))
        t = np.broadcast_to(np.arange(d.shape[0])[:, None], d.shape)
        keep = np.isfinite(d)
        frames.append(pl.DataFrame({"key": _key(q, v), "trial": t[keep], "d": d[keep]}))
    tests = signed_rank(pl.concat(frames), ["key", "trial"])
    # SPSS 25 (L172) reports the asymptotic two-sided p of the signed-rank z (tie-corrected,
    # no continuity correction), which signed_rank computes beside its exact p
    z = tests["z"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    return tests.with_columns(pl.Series("p_spss", 2.0 * stats.norm.sf(np.abs(z))))


def _dose_counts(summary: CohortSummary, quantity: str, visit: str) -> Array:
    change = summary.values["dose_change"][summary.visit_ids.index(visit)]
    seen = np.isfinite(change)
    return (dose_category(np.where(seen, change, 0.0), quantity) & seen).sum(axis=1)


def count_per_trial(summary: CohortSummary, quantity: str, visit: str | None) -> Array:
    """(T,) count of a published count in every simulated trial."""
    tr, c = summary.sim.traj, summary.sim.cohort
    if visit:
        return _dose_counts(summary, quantity, visit).astype(float)
    counts = {
        "male": lambda: c.male.sum(axis=1),
        "fever_patients": lambda: tr.fever.any(axis=0).sum(axis=1),
        "fever_events": lambda: tr.fever.sum(axis=(0, 2)),
        "hypoglycaemia_events": lambda: (tr.hypo_days >= 0).sum(axis=(0, 2)),
    }
    return counts[quantity]().astype(float)


def _range_row(kind: str, t: dict, visit: str, published: float, sim: Array) -> dict:
    lo, med, hi = np.nanquantile(sim, [RANGE[0], 0.5, RANGE[1]], method="inverted_cdf")
    ok = bool(lo <= published <= hi)
    return _row(kind, t, visit, published, (float(lo), float(med), float(hi)), None, ok)


def _row(kind, t, visit, published, spread, share, ok) -> dict:
    lo, med, hi = spread
    return {
        "kind": kind,
        "quantity": t["quantity"],
        "visit": visit,
        "published": float(published),
        "low": lo,
        "median": med,
        "high": hi,
        "share": share,
        "ok": ok,
        "source": str(t.get("source", "")),
    }


def _significance_share(tests: pl.DataFrame, t: dict, n_trials: int) -> float:
    """Share of simulated trials whose test has the published outcome: p < ALPHA with the
    change in the published direction; for a change found not significant, p >= ALPHA, or,
    when the paper names a direction ("no significant decrease"), not p < ALPHA that way."""
    key = _key(t["quantity"], t["visit"])
    p = _by_trial(tests, "p_spss", key, n_trials)
    up = _by_trial(tests, "r_plus", key, n_trials) > _by_trial(tests, "r_minus", key, n_trials)
    way = {"up": up, "down": ~up}.get(t.get("direction", ""), np.ones(n_trials, dtype=bool))
    significant = (p < ALPHA) & way  # NaN p (no non-zero change) is not significant
    return float(np.mean(significant if t["significant"] else ~significant))


def _direction_share(summary: CohortSummary, t: dict) -> tuple[float, Array]:
    """Share of simulated trials whose median paired change (in the subgroup) has the
    reported sign, and the (T,) median changes."""
    b = summary.sim.design.baseline
    vals = summary.values[t["quantity"]]
    change = vals[summary.visit_ids.index(t["visit"])] - vals[b]
    keep = np.isfinite(change) & subgroup_mask(summary, t.get("subgroup"), b)
    with np.errstate(all="ignore"):
        med = np.nanmedian(np.where(keep, change, np.nan), axis=1)
    sign = -1.0 if t["direction"] == "down" else 1.0
    return float(np.mean(sign * med > 0)), med


def check_summary(summary: CohortSummary, targets: dict) -> pl.DataFrame:
    """One row per published statistic: published value, simulated 2.5 / 50 / 97.5 % of
    trials (or the share showing a published test outcome) and ok."""
    n_trials = summary.sim.shape[0]
    base = summary.visit_ids[summary.sim.design.baseline]
    baseline, quantiles = targets.get("baseline", []), targets.get("quantiles", [])
    pairs = [(t["quantity"], base) for t in baseline] + [
        (t["quantity"], t["visit"]) for t in quantiles
    ]
    desc = descriptives(summary, list(dict.fromkeys(pairs)))
    sig = targets.get("significance", [])
    tests = change_tests(summary, list(dict.fromkeys((t["quantity"], t["visit"]) for t in sig)))
    rows = []
    for t in baseline:
        key = _key(t["quantity"], base)
        for kind, col in ((MEAN, "mean"), (SD, "sd")):
            sim = _by_trial(desc, col, key, n_trials)
            rows.append(_range_row(kind, t, base, t[col], sim))
    for t in quantiles:
        key = _key(t["quantity"], t["visit"])
        for col, kind in QUANTILE_KINDS.items():
            sim = _by_trial(desc, col, key, n_trials)
            rows.append(_range_row(kind, t, t["visit"], t[col], sim))
    for t in sig:
        share = _significance_share(tests, t, n_trials)
        kind = SIGNIFICANT if t["significant"] else NOT_SIGNIFICANT
        none = (None, None, None)
        rows.append(
            _row(kind, t, t["visit"], float(t["significant"]), none, share, share >= MIN_SHARE)
        )
    for t in targets.get("counts", []):
        sim = count_per_trial(summary, t["quantity"], t.get("visit"))
        rows.append(_range_row(COUNT, t, t.get("visit", ""), t["value"], sim))
    for t in targets.get("directions", []):
        share, med = _direction_share(summary, t)
        lo, mid, hi = np.nanquantile(med, [RANGE[0], 0.5, RANGE[1]])
        row = _row(DIRECTION, t, t["visit"], t["assumed_change"], (lo, mid, hi), share, None)
        rows.append(row | {"ok": share >= MIN_SHARE})
    return pl.DataFrame(rows, schema=CHECK_SCHEMA, orient="row")


def predictive_check(
    preset: Preset, n_trials: int, seed: int, targets: dict | None = None
) -> pl.DataFrame:
    """Simulate n_trials trials of the preset's size and check every published statistic."""
    targets = targets if targets is not None else load_targets(preset.id)
    sim = simulate_trials(preset, n_trials, preset.n_patients, seed)
    return check_summary(summarise(sim, seed), targets)


def check_loss(frame: pl.DataFrame) -> float:
    """Calibration loss of a check: for each number, its distance z from the median simulated
    trial in units of the half-width of the 95 % range (so |z| = 1 at the edge), squared, plus
    EDGE_WEIGHT x (|z| - EDGE)^2 beyond EDGE so that numbers near or past the edge weigh most;
    for each test outcome, a penalty growing as its share falls below 4 x MIN_SHARE (a margin
    over the acceptance threshold); an assumed direction size counts as a number."""
    num = frame.filter(pl.col("median").is_not_null())
    half = ((num["high"] - num["low"]) / 2.0).clip(lower_bound=1e-9)
    z = ((num["published"] - num["median"]) / half).fill_nan(10.0).fill_null(10.0).to_numpy()
    edge = EDGE_WEIGHT * np.maximum(0.0, np.abs(z) - EDGE) ** 2
    shares = frame.filter(pl.col("median").is_null())["share"].to_numpy()
    short = np.maximum(0.0, 4 * MIN_SHARE - shares) / MIN_SHARE
    return float((z**2).sum() + edge.sum() + (short**2).sum())
