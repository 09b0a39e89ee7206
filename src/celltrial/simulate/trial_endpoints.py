"""Endpoints of a simulated randomized trial at one visit, as arrays over trials x patients.

One definition each, used by the arms check, the power analysis and the expected response:
HbA1c as measured, the relative change of the daily insulin dose, and Zang 2022's primary
responder (HbA1c < 7.0 % and daily insulin reduced by >= 50 %, Abstract).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from celltrial.simulate.measurement import observe
from celltrial.simulate.physiology import Array
from celltrial.simulate.virtual_trials import SimulatedTrials

# Zang 2022 primary endpoint (Abstract): HbA1c < 7.0 % and daily insulin reduced >= 50 %.
RESPONDER_HBA1C_BELOW = 7.0
RESPONDER_INSULIN_REDUCTION = 0.5
# A halved dose is exactly -50 %: float tolerance so that it counts (as calibrate._proportion).
EPS = 1e-9


@dataclass(frozen=True)
class VisitEndpoints:
    """(T, N) arrays at the baseline and one follow-up visit; NaN where not observed."""

    hba1c_baseline: Array
    hba1c: Array
    insulin_change: Array  # relative change of the daily insulin dose (-0.25 = 25 % less)
    observed: Array  # bool: the follow-up visit took place

    @property
    def responder(self) -> Array:
        """(T, N) bool: Zang 2022 responder; a patient without the visit is a non-responder."""
        return (
            self.observed
            & (self.hba1c < RESPONDER_HBA1C_BELOW)
            & (self.insulin_change <= -RESPONDER_INSULIN_REDUCTION + EPS)
        )


def visit_endpoints(sim: SimulatedTrials, visit: str, seed: int | list[int]) -> VisitEndpoints:
    """Measured HbA1c (with its within-subject and analytical noise, simulate.measurement) at
    the baseline visit and `visit`, and the insulin change between them. seed: the seed the
    trials were simulated with (each block of trials its own measurement noise)."""
    ids = sim.design.visit_ids
    if visit not in ids:
        raise ValueError(f"protocol {sim.protocol.id} has no visit {visit!r}; visits: {ids}")
    v, b = ids.index(visit), sim.design.baseline
    hba1c = observe_hba1c(sim, seed)
    seen = sim.observed()
    ins = sim.traj.snap["insulin"]
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where(ins[b] > 0, ins[v] / ins[b] - 1.0, np.nan)
    return VisitEndpoints(
        hba1c_baseline=np.where(seen[b], hba1c[b], np.nan),
        hba1c=np.where(seen[v], hba1c[v], np.nan),
        insulin_change=np.where(seen[v], change, np.nan),
        observed=seen[v],
    )


def observe_hba1c(sim: SimulatedTrials, seed: int | list[int]) -> Array:
    """(V, T, N) measured HbA1c (simulate.measurement.observe, the one measurement model)."""
    return observe(sim, np.random.default_rng([*np.atleast_1d(seed), 99]))["hba1c"]
