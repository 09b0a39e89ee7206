"""Treatment effects on the latent state: UC-MSC infusions, trial participation, oral drugs.

All effects are multiplicative modifiers of beta-cell function B and insulin sensitivity S
(research note §5.2, de Winter 2006 principle); SGLT2 inhibitors scale the glucose production
constant and alpha-glucosidase inhibitors the FPG-independent HbA1c input (note §4.1).
"""

from __future__ import annotations

import numpy as np

from celltrial.simulate.physiology import Array
from celltrial.simulate.preset import Msc, OralDrug, Regimen, TrialEffect

LN2 = np.log(2.0)

# Where each oral class acts (research note §4.1, de Winter 2006 mechanisms).
CLASS_TARGET = {
    "metformin": "s",  # FPG falls without FSI falling: hepatic/sensitivity-like
    "sulfonylurea": "b",  # insulin secretagogue
    "dpp4": "b",  # glucose-dependent insulin secretion
    "sglt2": "kfpg",  # renal glucose loss lowers the glucose production constant
    "agi": "ppg",  # acts on the FPG-independent (post-prandial) HbA1c input
}


class MscSignal:
    """Bateman-shaped MSC signal M(t) = sum_j dose_j.ka/(ka-ke).(e^-ke.tau - e^-ka.tau).

    Kept as two exponentially decaying sums updated once a day (exact for integer days), so a
    day costs two multiplications whatever the number of infusions (research note §5.2).
    """

    def __init__(self, msc: Msc, shape: tuple[int, ...], dtype: type = np.float64) -> None:
        self.ka = LN2 / msc.onset_half_life_days  # onset half-life -> rate (note §5.2)
        self.ke = LN2 / msc.offset_half_life_days  # offset half-life -> rate (note §5.2)
        # Python floats, so that float32 state stays float32 in the daily updates
        self.rka, self.rke = float(np.exp(-self.ka)), float(np.exp(-self.ke))
        self.scale = float(self.ka / (self.ka - self.ke))
        self.m50 = msc.m50
        self.e_slow = np.zeros(shape, dtype)
        self.e_fast = np.zeros(shape, dtype)

    def decay(self) -> None:
        self.e_slow *= self.rke
        self.e_fast *= self.rka

    def give(self, dose: Array) -> None:
        self.e_slow += dose
        self.e_fast += dose

    def response(self, out: Array | None = None, work: Array | None = None) -> Array:
        """Fraction of the maximal effect, M/(M50 + M) (Emax model, note §5.2).
        out, work: optional preallocated arrays (the daily loop allocates nothing)."""
        m = np.subtract(self.e_slow, self.e_fast, out=out)
        m *= self.scale
        d = np.add(m, self.m50, out=work)
        return np.divide(m, d, out=m)


def trial_effect_shape(days: Array, effect: TrialEffect) -> Array:
    """Trial-participation effect over time, (1 - e^(-t/on)).e^(-t/off) for t >= 0.

    Step with exponential waning (research note §5.2 "Pl(t)", assumption [A]).
    """
    t = np.maximum(np.asarray(days, dtype=float), 0.0)
    return (1.0 - np.exp(-t / effect.onset_days)) * np.exp(-t / effect.offset_days)


def drug_emax(x: Array, emax: float, ed50: float) -> Array:
    """Class effect on DDD-normalised dose x: Emax.x/(ED50 + x) (research note §4.1)."""
    return emax * x / (ed50 + x)


def real_dose_mg(drug: OralDrug, mg: Array) -> Array:
    """The daily dose a prescriber writes for a wanted dose `mg`: the nearest multiple of the
    drug's lowest labelled daily dose (tablet steps [A]: metformin 500, 1000, 1500 mg),
    never below that lowest dose nor above the label maximum (celltrial.clinical.drugs);
    0 stays 0 (not taking it)."""
    lo, hi = drug.min_mg, drug.max_mg
    steps = np.clip(np.round(np.asarray(mg) / lo), 1.0, np.floor(hi / lo + 1e-9))
    return np.where(np.asarray(mg) > 0, steps * lo, 0.0)


def oral_mg(regimen: Regimen, x0: Array, frac: Array) -> Array:
    """(n_oral, ...) real daily doses in mg of baseline doses x0 (DDD units) scaled by frac."""
    return np.stack([real_dose_mg(d, x0[i] * d.ddd_mg * frac) for i, d in enumerate(regimen.oral)])


def oral_factors(regimen: Regimen, x0: Array, frac: Array) -> dict[str, Array]:
    """Multipliers of B, S, KFPG and PPG for the real doses of frac.x0 relative to baseline x0.

    x0: (n_oral, ...) baseline doses in DDD units; frac: current fraction of the baseline dose,
    rounded to each drug's real doses (real_dose_mg). B and S were sampled on the baseline
    regimen, so the factor is (1+E(now))/(1+E(base)).
    """
    out = {k: np.ones_like(frac) for k in ("b", "s", "kfpg", "ppg")}
    now = oral_mg(regimen, x0, frac)
    for i, drug in enumerate(regimen.oral):
        eff = regimen.effects[drug.drug_class]
        e_now = drug_emax(now[i] / drug.ddd_mg, eff.emax, eff.ed50_ddd)
        e_base = drug_emax(x0[i], eff.emax, eff.ed50_ddd)
        target = CLASS_TARGET[drug.drug_class]
        if target in ("b", "s"):
            out[target] *= (1.0 + e_now) / (1.0 + e_base)
        else:
            out[target] *= (1.0 - e_now) / (1.0 - e_base)
    return out
