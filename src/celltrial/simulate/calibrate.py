"""Calibration of a preset to its published targets by simulated method of moments.

The loss compares simulated summaries of a large virtual cohort with the targets in
presets/<name>_targets.yaml; every evaluation reuses one seed (common random numbers,
research note §5.5), so Nelder-Mead sees a smooth objective.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import minimize
from scipy.stats import binomtest

from celltrial.clinical.dose_change import (
    DISCONTINUED,
    REDUCED_BY_10_OR_MORE,
    REDUCED_BY_HALF_OR_MORE,
    classify_ratio,
)
from celltrial.clinical.homa import homa1_ir, homa_cp_b, homa_cp_ir
from celltrial.simulate.measurement import observe
from celltrial.simulate.physiology import Array
from celltrial.simulate.prescriptions import total_ddd
from celltrial.simulate.preset import Preset, get_parameter, load_targets, with_parameters
from celltrial.simulate.virtual_trials import SimulatedTrials, simulate_trials

# IQR of a normal = 1.349 SD: turns a reported IQR into a loss scale.
IQR_PER_SD = 1.349


@dataclass(frozen=True)
class CohortSummary:
    """Per-visit measured values of a pooled virtual cohort, (V, T, N), NaN when missing."""

    values: dict[str, Array]
    visit_ids: tuple[str, ...]
    sim: SimulatedTrials

    def at(self, quantity: str, visit: str) -> Array:
        v = self.values[quantity][self.visit_ids.index(visit)]
        return v[np.isfinite(v)]


def summarise(sim: SimulatedTrials, seed: int) -> CohortSummary:
    obs = observe(sim, np.random.default_rng([seed, 99]))
    seen = sim.observed()
    vals = {k: np.where(seen, v, np.nan) for k, v in obs.items()}
    # Derived indices through the one implementation in celltrial.clinical.homa.
    vals["homa_b"] = np.asarray(homa_cp_b(vals["fcp"], vals["fpg"]))
    vals["homa_ir"] = np.asarray(homa_cp_ir(vals["fcp"], vals["fpg"]))
    vals["homa1_ir"] = np.asarray(homa1_ir(vals["fpg"], vals["fins"]))
    c = sim.cohort
    shape = vals["fpg"].shape
    vals["age"] = np.broadcast_to(c.age, shape)
    vals["duration"] = np.broadcast_to(c.duration, shape)
    vals["bmi"] = np.broadcast_to(c.weight / (c.height_cm / 100.0) ** 2, shape)
    total = _total_ddd(sim)
    vals["dose_change"] = np.where(seen, total / total[sim.design.baseline][None] - 1.0, np.nan)
    return CohortSummary(vals, sim.design.visit_ids, sim)


def _total_ddd(sim: SimulatedTrials) -> Array:
    """Total hypoglycaemic agent dose in DDD units (research note §4.5 metric 1), of the doses
    written to a simulated study's medications table (celltrial.simulate.prescriptions)."""
    return total_ddd(sim)


def _proportion(summary: CohortSummary, quantity: str, visit: str) -> float:
    """Share of patients in a dose-reduction category of Lian 2022 (L196-199): reduced by
    at least 10 %, by at least half, or every agent stopped, by the one rule of
    celltrial.clinical.dose_change (which the analysis of a study uses too)."""
    change = summary.at("dose_change", visit)
    wanted = {
        "dose_reduced": REDUCED_BY_10_OR_MORE,
        "dose_reduced_over_50": REDUCED_BY_HALF_OR_MORE,
        "discontinued": (DISCONTINUED,),
    }[quantity]
    return float(np.mean(np.isin(classify_ratio(1.0 + change), wanted)))


def proportion_interval(count: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95 % interval of a reported count of n patients: a simulated
    share outside it is incompatible with the report (two-sided 5 %), so 0 % fails a
    reported 1 of 16 and 70 % fails a reported 16 of 16 (Clopper & Pearson, Biometrika 1934)."""
    ci = binomtest(count, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def _count_per_trial(sim: SimulatedTrials, quantity: str) -> float:
    tr = sim.traj
    if quantity == "fever_patients":
        return float(tr.fever.any(axis=0).sum(axis=1).mean())
    if quantity == "fever_events":
        return float(tr.fever.sum(axis=(0, 2)).mean())
    if quantity == "hypoglycaemia_events":
        return float((tr.hypo_days >= 0).sum(axis=(0, 2)).mean())
    raise KeyError(quantity)


def report(summary: CohortSummary, targets: dict) -> pl.DataFrame:
    """Target beside simulated value for every target quantity, with pass/fail."""
    rows = []
    base = summary.visit_ids[summary.sim.design.baseline]
    for t in targets.get("baseline", []):
        sim = float(np.mean(summary.at(t["quantity"], base)))
        ok = abs(sim - t["mean"]) <= 0.5 * t["sd"]
        rows.append(_row("baseline mean", t, base, t["mean"], t["sd"], sim, ok, t["sd"]))
    for t in targets.get("quantiles", []):
        sim = float(np.median(summary.at(t["quantity"], t["visit"])))
        ok = t["q1"] <= sim <= t["q3"]
        scale = (t["q3"] - t["q1"]) / IQR_PER_SD
        row = _row("median", t, t["visit"], t["median"], scale, sim, ok, scale)
        rows.append({**row, "target_low": t["q1"], "target_high": t["q3"]})
    for t in targets.get("proportions", []):
        sim = _proportion(summary, t["quantity"], t["visit"])
        lo, hi = proportion_interval(t["count"], t["n"])
        ok = lo <= sim <= hi
        row = _row("proportion", t, t["visit"], t["count"] / t["n"], 0.0, sim, ok, (hi - lo) / 2)
        rows.append(row | {"target_low": lo, "target_high": hi})
    for t in targets.get("counts", []):
        sim = _count_per_trial(summary.sim, t["quantity"])
        rows.append(_row("count per trial", t, "", t["value"], 2.0, sim, None, 2.0))
    for t in targets.get("directions", []):
        rows.append(_direction_row(summary, t, base))
    return pl.DataFrame(rows, schema=REPORT_SCHEMA, orient="row")


REPORT_SCHEMA = {
    "kind": pl.Utf8,
    "quantity": pl.Utf8,
    "visit": pl.Utf8,
    "target": pl.Float64,
    "target_low": pl.Float64,
    "target_high": pl.Float64,
    "simulated": pl.Float64,
    "acceptance": pl.Boolean,
    "weight_scale": pl.Float64,
    "source": pl.Utf8,
}


def _row(kind, t, visit, target, spread, sim, ok, scale) -> dict:
    lo, hi = (
        (target - 0.5 * spread, target + 0.5 * spread)
        if kind == "baseline mean"
        else (
            None,
            None,
        )
    )
    return {
        "kind": kind,
        "quantity": t["quantity"],
        "visit": visit,
        "target": float(target),
        "target_low": lo,
        "target_high": hi,
        "simulated": sim,
        "acceptance": ok,
        "weight_scale": float(scale),
        "source": t.get("source", ""),
    }


def _direction_row(summary: CohortSummary, t: dict, base: str) -> dict:
    """Median paired change from baseline in the (sub)group; the size is an assumption."""
    v = summary.visit_ids.index(t["visit"])
    b = summary.visit_ids.index(base)
    vals = summary.values[t["quantity"]]
    change = vals[v] - vals[b]
    keep = np.isfinite(change) & _subgroup(summary, t.get("subgroup"), b)
    sim = float(np.median(change[keep])) if keep.any() else float("nan")
    sign = -1.0 if t["direction"] == "down" else 1.0
    size = t["assumed_change"]
    return {
        "kind": "direction",
        "quantity": t["quantity"],
        "visit": t["visit"],
        "target": float(size),
        "target_low": None,
        "target_high": None,
        "simulated": sim,
        "acceptance": bool(sign * sim > 0),
        "weight_scale": abs(float(size)),
        "source": t.get("source", ""),
    }


def _subgroup(summary: CohortSummary, name: str | None, b: int) -> Array:
    c = summary.sim.cohort
    if name is None:
        return np.ones(c.lb.shape, dtype=bool)
    if name == "men":
        return c.male
    if name == "women":
        return ~c.male
    if name == "hscrp_elevated":  # > 3 mg/L (AHA/CDC 2003, as the chin2025 protocol)
        return summary.values["hscrp"][b] > 3.0
    if name == "ckd_early":  # creatinine-based stand-in: top third of creatinine [A]
        cr = summary.values["creatinine"][b]
        return cr > np.nanquantile(cr, 2 / 3)
    raise KeyError(name)


def loss(frame: pl.DataFrame) -> float:
    """Sum of squared standardised distances between target and simulated values."""
    z = (frame["simulated"] - frame["target"]) / frame["weight_scale"]
    return float((z.fill_nan(10.0).fill_null(10.0) ** 2).sum())


def evaluate(
    preset: Preset, n_trials: int, n_patients: int, seed: int, targets: dict | None = None
) -> pl.DataFrame:
    targets = targets if targets is not None else load_targets(preset.id)
    sim = simulate_trials(preset, n_trials, n_patients, seed)
    return report(summarise(sim, seed), targets)


def calibrate(
    preset: Preset,
    n_trials: int,
    n_patients: int,
    seed: int,
    max_evaluations: int = 60,
    on_evaluation: Callable[[int, float], None] | None = None,
) -> tuple[Preset, pl.DataFrame]:
    """Fit the preset's free parameters by Nelder-Mead on the SMM loss with common random
    numbers (research note §5.5); returns the fitted preset and its calibration report."""
    targets = load_targets(preset.id)
    names = preset.free_parameters
    x0 = np.array([get_parameter(preset, n) for n in names])
    count = [0]

    def objective(x: Array) -> float:
        try:
            candidate = with_parameters(preset, dict(zip(names, x, strict=True)))
        except ValueError:  # outside the parameter's valid range
            return 1e6
        value = loss(evaluate(candidate, n_trials, n_patients, seed, targets))
        count[0] += 1
        if on_evaluation is not None:
            on_evaluation(count[0], value)
        return value

    if names:
        res = minimize(
            objective,
            x0,
            method="Nelder-Mead",
            options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-3},
        )
        x0 = res.x
    fitted = with_parameters(preset, dict(zip(names, x0, strict=True)))
    return fitted, evaluate(fitted, n_trials, n_patients, seed, targets)
