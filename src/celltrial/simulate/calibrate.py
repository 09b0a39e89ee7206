"""Measured summaries of simulated trials, as calibration and the predictive check use them.

`summarise` observes every simulated trial at every visit (measurement noise, dropout) and
derives the indices and the total hypoglycaemic dose the published statistics are made of;
`dose_category` is the dose-reduction rule of Lian 2022. The check itself is in
celltrial.simulate.predictive, the fitting in celltrial.simulate.fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    """Total hypoglycaemic agent dose in DDD units (research note §4.5 metric 1), of the doses
    written to a simulated study's medications table (celltrial.simulate.prescriptions)."""
    return total_ddd(sim)


def dose_category(change: Array, quantity: str) -> Array:
    """Patients in a dose-reduction category of Lian 2022 (L196-199): reduced by at least
    10 %, by at least half, or every agent stopped, by the one rule of
    celltrial.clinical.dose_change (which the analysis of a study uses too)."""
    wanted = {
        "dose_reduced": REDUCED_BY_10_OR_MORE,
        "dose_reduced_over_50": REDUCED_BY_HALF_OR_MORE,
        "discontinued": (DISCONTINUED,),
    }[quantity]
    return np.isin(classify_ratio(1.0 + change), wanted)


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
