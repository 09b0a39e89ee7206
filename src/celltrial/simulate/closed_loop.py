"""Closed-loop titration: the protocol's own rules (celltrial.protocol.titration) applied to
simulated self-monitoring readings, vectorized over trials x patients.

Order (research note §4.3; the papers do not specify it): safety decreases and increases act
on insulin while the patient takes it, and on oral agents once insulin is withdrawn or absent;
de-escalation of stable glucose (Lian 2022 L196-199: "reduced in all patients") and the
withdrawal of a single oral agent stable at its lowest dose (L148-149) act on both at once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from celltrial.protocol.model import Titration
from celltrial.protocol.titration import Action, Reason, advise_insulin, advise_oral
from celltrial.simulate.cohort import Cohort
from celltrial.simulate.physiology import Array
from celltrial.simulate.preset import Regimen

# Seven self-monitored FPG and 2-h PG readings a week (Lian 2022 L143-144).
READINGS_PER_WEEK = 7
# Day-to-day CV of self-monitored fasting glucose: biological ~7 % (Mooy 1996, research note
# §3.2) plus meter error (ISO 15197:2013 allows +-15 % at >= 5.55 mmol/L, CV ~7 %) => ~10 %.
SMBG_DAY_CV = 0.10
# Reasons of a de-escalation step (protocol rule `deescalate_when_stable`).
EASING = (int(Reason.STABLE_DEESCALATE), int(Reason.IMPROVED_DEESCALATE))


class Doses(NamedTuple):
    insulin: Array  # U/kg/day
    oral_frac: Array  # fraction of the baseline oral doses
    fpg_reference: Array | None  # reading the current dose was set on (de-escalation)


class Titrator:
    """Applies the protocol's titration to the current glucose of every patient."""

    def __init__(self, rules: Titration | None, allow_increase: bool, regimen: Regimen) -> None:
        self.rules = rules
        self.allow_increase = allow_increase
        self.regimen = regimen

    def step(
        self,
        fpg: Array,
        pg2h: Array,
        insulin_u_per_kg: Array,
        oral_frac: Array,
        cohort: Cohort,
        z: Array,
        hypo: Array,
        fpg_reference: Array | None = None,
    ) -> Doses:
        """New doses after one titration step.

        fpg_reference: the reading the current dose was set on (at first the pre-treatment
        reading), in the same convention as the readings (the week's lowest, see
        `lowest_reading`). After a de-escalation step it becomes that step's reading, so a
        further step needs a further fall: the doses follow the glucose "to keep the level
        stable" (Lian 2022 L145) instead of falling every week after one improvement."""
        if self.rules is None:
            return Doses(insulin_u_per_kg, oral_frac, fpg_reference)
        fpg_r, pg2h_r = self._readings(fpg, pg2h, z)
        weight = cohort.weight
        ref = fpg_reference
        adv = advise_insulin(
            fpg_r, pg2h_r, insulin_u_per_kg * weight, weight, self.rules, hypo, ref
        )
        new_ins = np.maximum(self._allowed(adv.action, adv.new_dose, insulin_u_per_kg * weight), 0)
        on_ins = insulin_u_per_kg > 0
        n_oral = ((cohort.oral_x0 > 0) & (oral_frac > 0)[None]).sum(axis=0)
        floor = lowest_oral_fraction(self.regimen, cohort.oral_x0)
        oral = advise_oral(
            fpg_r,
            pg2h_r,
            n_oral,
            at_lowest_dose(self.regimen, cohort.oral_x0, oral_frac),
            self.rules,
            daily_dose=oral_frac,
            hypo=hypo,
            fpg_reference=ref,
        )
        new_frac = np.clip(self._allowed(oral.action, oral.new_dose, oral_frac), 0.0, 1.0)
        # de-escalation stops at the lowest labelled dose; a safety decrease below it withdraws
        eased = np.isin(oral.reason, EASING)
        new_frac = np.where(eased, np.maximum(new_frac, floor), new_frac)
        new_frac = np.where(new_frac < floor - 1e-9, 0.0, new_frac)
        # insulin first: while insulin is taken, orals change only by de-escalation
        follow = ~on_ins | eased | (oral.reason == Reason.STABLE_ON_LOWEST_SINGLE_ORAL)
        new_frac = np.where(follow, new_frac, oral_frac)
        if ref is not None:
            stepped = np.isin(adv.reason, EASING) | (eased & follow)
            ref = np.where(stepped, fpg_r, ref)
        return Doses(new_ins / weight, new_frac, ref)

    def _allowed(self, action: Array, new: Array, old: Array) -> Array:
        if self.allow_increase:
            return new
        return np.where(action == Action.INCREASE, old, new)

    @staticmethod
    def _readings(fpg: Array, pg2h: Array, z: Array) -> tuple[Array, Array]:
        """The week's lowest readings, which is what a reduction rule reacts to."""
        return lowest_reading(fpg, z), lowest_reading(pg2h, z)


def lowest_oral_fraction(regimen: Regimen, oral_x0: Array) -> Array:
    """(T, N) fraction of the baseline oral doses at which one of the patient's agents reaches
    its lowest labelled daily dose (celltrial.clinical.drugs min_daily): no agent may go below
    it, so the whole oral regimen stops there (0 for a patient on no oral agent)."""
    per_drug = np.array([d.min_mg / d.dose_mg for d in regimen.oral])[:, None, None]
    return np.where(oral_x0 > 0, per_drug, 0.0).max(axis=0)


def at_lowest_dose(regimen: Regimen, oral_x0: Array, oral_frac: Array) -> Array:
    """(T, N) every agent the patient takes is at its lowest labelled daily dose: its real
    dose (real_dose_mg: nearest multiple of the lowest dose, at least one) is the lowest
    exactly when the wanted dose is under 1.5 lowest doses (no rounding needed)."""
    at = np.ones(np.shape(oral_frac), dtype=bool)
    for i, d in enumerate(regimen.oral):  # one step per drug of the regimen
        at &= (oral_x0[i] <= 0) | (oral_x0[i] * (d.ddd_mg * oral_frac) < 1.5 * d.min_mg)
    return at


def lowest_reading(true_value: Array, z: Array) -> Array:
    """The lowest of a week's self-monitored readings of a true value.

    The minimum of 7 log-normal readings is approximated by exp(-1.35.cv) x true value
    (expected minimum of 7 standard normals = -1.352, order statistics tables), plus one
    draw z of sampling noise on the weekly mean."""
    noise = np.exp(SMBG_DAY_CV / np.sqrt(READINGS_PER_WEEK) * z)
    return true_value * noise * np.exp(-1.352 * SMBG_DAY_CV)
