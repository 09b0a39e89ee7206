"""Closed-loop titration: the protocol's own rules (celltrial.protocol.titration) applied to
simulated self-monitoring readings, vectorized over trials x patients.

De-escalation order (research note §4.3, the papers do not specify it): insulin is adjusted
while the patient takes it; oral agents are adjusted once insulin is withdrawn or absent.
"""

from __future__ import annotations

import numpy as np

from celltrial.protocol.model import Titration
from celltrial.protocol.titration import Action, advise_insulin, advise_oral
from celltrial.simulate.cohort import Cohort
from celltrial.simulate.physiology import Array

# One tablet step is a halving; two halvings from the baseline dose is the lowest tablet
# (assumption [A]: the papers give no dose ladder).
LOWEST_ORAL_FRACTION = 0.25
# Seven self-monitored FPG and 2-h PG readings a week (Lian 2022 L143-144).
READINGS_PER_WEEK = 7
# Day-to-day CV of self-monitored fasting glucose: biological ~7 % (Mooy 1996, research note
# §3.2) plus meter error (ISO 15197:2013 allows +-15 % at >= 5.55 mmol/L, CV ~7 %) => ~10 %.
SMBG_DAY_CV = 0.10


class Titrator:
    """Applies the protocol's titration to the current glucose of every patient."""

    def __init__(self, rules: Titration | None, allow_increase: bool) -> None:
        self.rules = rules
        self.allow_increase = allow_increase

    def step(
        self,
        fpg: Array,
        pg2h: Array,
        insulin_u_per_kg: Array,
        oral_frac: Array,
        cohort: Cohort,
        z: Array,
        hypo: Array,
    ) -> tuple[Array, Array]:
        """New (insulin U/kg/day, oral fraction of baseline dose) after one titration step."""
        if self.rules is None:
            return insulin_u_per_kg, oral_frac
        fpg_r, pg2h_r = self._readings(fpg, pg2h, z)
        weight = cohort.weight
        adv = advise_insulin(fpg_r, pg2h_r, insulin_u_per_kg * weight, weight, self.rules, hypo)
        new_ins = np.maximum(self._allowed(adv.action, adv.new_dose, insulin_u_per_kg * weight), 0)
        on_ins = insulin_u_per_kg > 0
        n_oral = ((cohort.oral_x0 > 0) & (oral_frac > 0)[None]).sum(axis=0)
        oral = advise_oral(
            fpg_r,
            pg2h_r,
            np.where(on_ins, 0, n_oral),  # insulin first: orals wait while insulin is taken
            oral_frac <= LOWEST_ORAL_FRACTION + 1e-9,
            self.rules,
            daily_dose=oral_frac,
            hypo=hypo,
        )
        new_frac = np.clip(self._allowed(oral.action, oral.new_dose, oral_frac), 0.0, 1.0)
        new_frac = np.where(new_frac < LOWEST_ORAL_FRACTION - 1e-9, 0.0, new_frac)
        return new_ins / weight, new_frac

    def _allowed(self, action: Array, new: Array, old: Array) -> Array:
        if self.allow_increase:
            return new
        return np.where(action == Action.INCREASE, old, new)

    @staticmethod
    def _readings(fpg: Array, pg2h: Array, z: Array) -> tuple[Array, Array]:
        """The week's lowest readings, which is what a reduction rule reacts to.

        The minimum of 7 log-normal readings is approximated by exp(-1.35.cv) x true value
        (expected minimum of 7 standard normals = -1.352, order statistics tables), plus one
        draw of sampling noise on the weekly mean."""
        noise = np.exp(SMBG_DAY_CV / np.sqrt(READINGS_PER_WEEK) * z)
        lowest = np.exp(-1.352 * SMBG_DAY_CV)
        fpg_mean, pg2h_mean = fpg * noise, pg2h * noise
        return fpg_mean * lowest, pg2h_mean * lowest
