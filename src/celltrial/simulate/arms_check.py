"""The simulated arms of a randomized preset beside the published ones (zang2022).

A large virtual cohort of trials is simulated with the published allocation (the MSC effect
off in the placebo arm, simulate_trials' msc_arm), and each arm's summaries are set against
presets/<name>_targets.yaml: HbA1c means, the mean insulin reduction and the responder share.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import binomtest

from celltrial.simulate.allocation import msc_pattern
from celltrial.simulate.physiology import Array
from celltrial.simulate.preset import Preset, PresetError, load_targets
from celltrial.simulate.trial_endpoints import VisitEndpoints, visit_endpoints
from celltrial.simulate.virtual_trials import simulate_trials

# Two-sided 95 % normal quantile: interval of a published mean, mean +- 1.96 SD/sqrt(n).
Z95 = 1.959964

ARMS_SCHEMA = {
    "arm": pl.Utf8,
    "kind": pl.Utf8,
    "quantity": pl.Utf8,
    "visit": pl.Utf8,
    "target": pl.Float64,
    "target_low": pl.Float64,
    "target_high": pl.Float64,
    "simulated": pl.Float64,
    "acceptance": pl.Boolean,
    "source": pl.Utf8,
}


def proportion_interval(count: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95 % interval of a reported count of n patients: a simulated
    share outside it is incompatible with the report (two-sided 5 %; Clopper & Pearson,
    Biometrika 1934)."""
    ci = binomtest(count, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def has_arm_targets(preset: Preset) -> bool:
    """The preset's targets describe arms (a randomized trial), so `check_arms` applies."""
    try:
        return "arms" in load_targets(preset.id)
    except PresetError:
        return False


def check_arms(preset: Preset, n_trials: int, seed: int) -> pl.DataFrame:
    """One row per published arm summary: target, accepted range, simulated, ok."""
    targets = load_targets(preset.id)
    arms = targets["arms"]
    n_msc = sum(a["n"] for a in arms.values() if a["msc"])
    n_all = sum(a["n"] for a in arms.values())
    arm = msc_pattern(n_all, n_msc / n_all)
    sim = simulate_trials(preset, n_trials, n_all, seed, msc_arm=arm)
    in_arm = {name: np.broadcast_to(arm == a["msc"], sim.shape) for name, a in arms.items()}
    cache: dict[str, VisitEndpoints] = {}

    def at(visit: str) -> VisitEndpoints:
        if visit not in cache:
            cache[visit] = visit_endpoints(sim, visit, seed)
        return cache[visit]

    base = sim.design.visit_ids[sim.design.baseline]
    rows = []
    for t in targets.get("means", []):  # a handful of published numbers
        e = at(t["visit"])
        values = e.hba1c_baseline if t["visit"] == base else e.hba1c
        half = Z95 * t["sd"] / np.sqrt(arms[t["arm"]]["n"])
        sim_mean = _mean(values, in_arm[t["arm"]])
        rows.append(_row(t, "mean", t["mean"], t["mean"] - half, t["mean"] + half, sim_mean))
    for t in targets.get("insulin_reduction", []):
        e = at(t["visit"])
        sim_pct = -100.0 * _mean(e.insulin_change, in_arm[t["arm"]])
        lo, hi = t["percent"] - t["tolerance"], t["percent"] + t["tolerance"]
        rows.append(_row(t, "mean insulin reduction %", t["percent"], lo, hi, sim_pct))
    for t in targets.get("responders", []):
        e = at(t["visit"])
        keep = in_arm[t["arm"]] & e.observed
        share = float(e.responder[keep].mean())
        lo, hi = proportion_interval(t["count"], t["n"])
        rows.append(_row(t, "responders", t["count"] / t["n"], lo, hi, share))
    return pl.DataFrame(rows, schema=ARMS_SCHEMA, orient="row")


def _mean(values: Array, keep: Array) -> float:
    v = values[keep]
    return float(np.mean(v[np.isfinite(v)]))


def _row(t: dict, kind: str, target: float, lo: float, hi: float, sim: float) -> dict:
    return {
        "arm": t["arm"],
        "kind": kind,
        "quantity": t.get("quantity", "insulin" if "percent" in t else "responder"),
        "visit": t["visit"],
        "target": float(target),
        "target_low": float(lo),
        "target_high": float(hi),
        "simulated": sim,
        "acceptance": bool(lo <= sim <= hi),
        "source": t.get("source", ""),
    }
