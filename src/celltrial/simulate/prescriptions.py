"""The doses the simulator prescribes at each visit, as a prescriber writes them.

One source for the medications table of a simulated study (celltrial.simulate.study) and for
the calibration summary (celltrial.simulate.calibrate), so the dose-change categories an
analysis derives from the written table are the simulator's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from celltrial.clinical.drugs import fraction_of_ddd
from celltrial.simulate.physiology import Array
from celltrial.simulate.treatment import oral_mg
from celltrial.simulate.virtual_trials import SimulatedTrials


@dataclass(frozen=True)
class Prescribed:
    drug: str  # INN in celltrial.clinical.drugs
    atc_code: str
    unit: str  # "U" or "mg"
    dose: Array  # (V, T, N) or (V, N): daily dose at each visit, 0 when not taken


def prescribed_doses(sim: SimulatedTrials, trial: int | None = None) -> list[Prescribed]:
    """Insulin then each oral agent of the preset's regimen, dosed as on each visit day;
    doses (V, T, N), or (V, N) of one trial when `trial` is given."""
    reg = sim.preset.regimen
    pick = slice(None) if trial is None else trial
    ins_kg, frac = sim.traj.snap["insulin"][:, pick], sim.traj.snap["oral_frac"][:, pick]
    weight, x0 = sim.cohort.weight[pick], sim.cohort.oral_x0[:, pick]
    # Insulin in whole units a day: pens and syringes are dialled in 1-unit steps [A].
    insulin = np.round(ins_kg * weight[None])
    out = [Prescribed(reg.insulin.inn, reg.insulin.atc, "U", insulin)]
    # real oral doses (multiples of the lowest labelled dose, clinical.drugs): (n_oral, V, ...)
    mg = oral_mg(reg, x0[:, None], frac)
    out += [Prescribed(d.drug, d.atc_code, "mg", mg[i]) for i, d in enumerate(reg.oral)]
    return out


def total_ddd(sim: SimulatedTrials, trial: int | None = None) -> Array:
    """(V, T, N), or (V, N) of one trial: the combined dose endpoint, the sum over agents of
    daily dose / WHO DDD (celltrial.clinical.drugs), as the analysis computes it."""
    doses = prescribed_doses(sim, trial)
    return np.sum([fraction_of_ddd(p.atc_code, p.dose, p.unit) for p in doses], axis=0)
