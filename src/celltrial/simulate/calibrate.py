"""Measured summaries of simulated trials, as calibration and the predictive check use them.

`summarise` observes every simulated trial at every visit (measurement noise, dropout) and
derives the indices and the total hypoglycaemic dose the published statistics are made of;
`dose_category` is the dose-reduction rule of Lian 2022. The check itself is in
celltrial.simulate.predictive, the fitting in celltrial.simulate.fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from celltrial.clinical.homa import homa1_ir, homa_cp_b, homa_cp_ir
from celltrial.simulate.measurement import observe
from celltrial.simulate.physiology import Array
from celltrial.simulate.treatment import oral_mg
from celltrial.simulate.virtual_trials import SimulatedTrials


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
    """Total hypoglycaemic agent dose in DDD units (research note §4.5 metric 1)."""
    snap, c, reg = sim.traj.snap, sim.cohort, sim.preset.regimen
    total = snap["insulin"] * c.weight[None] / reg.insulin.ddd
    # the real doses given (celltrial.simulate.treatment.oral_mg), per visit
    mg = oral_mg(reg, c.oral_x0[:, None], snap["oral_frac"])  # (n_oral, V, T, N)
    ddd = np.array([d.ddd_mg for d in reg.oral]).reshape(-1, 1, 1, 1)
    return total + (mg / ddd).sum(axis=0)


def dose_category(change: Array, quantity: str) -> Array:
    """Patients in a dose-reduction category of Lian 2022 (L196-199): reduced by at least
    10 % (its smallest category is 10-50 %), by at least half ("decrement of 50 %", "more
    than 50 %": tablet steps halve, so exactly half counts), or every agent stopped."""
    eps = 1e-9  # float tolerance: a halved dose is exactly -0.5
    rule = {
        "dose_reduced": change <= -0.10 + eps,
        "dose_reduced_over_50": change <= -0.5 + eps,
        "discontinued": change <= -1.0 + eps,
    }[quantity]
    return rule


def subgroup_mask(summary: CohortSummary, name: str | None, b: int) -> Array:
    """(T, N) patients of a named subgroup of the targets (at baseline visit index b)."""
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
