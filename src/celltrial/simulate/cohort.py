"""Baseline sampling of virtual patients: demographics, latent physiology, regimen, responses.

Every array is shaped (trials, candidates); one numpy Generator draws everything, always in the
same order, so a seed fixes the cohort (common random numbers for calibration).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.special import ndtr, ndtri

from celltrial.simulate.physiology import (
    KFPG,
    PPG_HBA1C,
    Array,
    fsi_endogenous,
    logistic_fraction,
)
from celltrial.simulate.preset import Lab, Normal, Preset


@dataclass
class Cohort:
    male: Array  # bool
    age: Array
    duration: Array
    height_cm: Array
    weight: Array
    lb: Array  # logit beta-cell function on the baseline regimen (Choy sign)
    ls: Array  # logit insulin sensitivity on the baseline regimen
    rb: Array  # yearly logit drift of beta-cell function
    ppg: Array  # FPG-independent HbA1c input, %/day
    c_cp: Array  # pmol/L C-peptide per uU/mL endogenous insulin
    pg2h_eta: Array
    cp2h_eta: Array
    insulin0: Array  # U/kg/day at baseline (0: no insulin)
    oral_x0: Array  # (n_oral, T, N) baseline dose in DDD units (0: not taking it)
    emax_b: Array  # MSC effect on beta-cell function (0 in non-responders)
    emax_s: Array
    trial_size: Array  # trial effect on S at its peak (research note §5.2 Pl_S)
    trial_size_b: Array  # ... on B (Pl_B), the same patient's multiplier
    lab_z0: Array  # (n_lab, T, N) standard normals of the baseline lab values (see lab_log0)
    lab_z: Array  # (n_lab, T, N, n_visit_max) standard normals for within-subject noise
    screen_u: Array  # uniform draws for the screening HbA1c noise

    def take(self, idx: Array) -> Cohort:
        """Select candidates along the patient axis: idx (T, n) indices into (T, N)."""
        out = {}
        for f in fields(self):
            a = getattr(self, f.name)
            if f.name == "lab_z":  # (lab, T, N, visit)
                out[f.name] = np.take_along_axis(a, idx[None, :, :, None], axis=2)
            elif a.ndim == 3:  # (item, T, N)
                out[f.name] = np.take_along_axis(a, idx[None], axis=2)
            else:
                out[f.name] = np.take_along_axis(a, idx, axis=1)
        return Cohort(**out)


def _normal(rng: np.random.Generator, spec: Normal, shape: tuple[int, ...]) -> Array:
    x = spec.mean + spec.sd * rng.standard_normal(shape)
    lo = -np.inf if spec.min is None else spec.min
    hi = np.inf if spec.max is None else spec.max
    return np.clip(x, lo, hi)


def _lognormal_mult(rng: np.random.Generator, sd: float, shape: tuple[int, ...]) -> Array:
    """Multiplier with median 1 and log-SD sd."""
    return np.exp(sd * rng.standard_normal(shape))


def lab_log0(lab: Lab, z0: Array) -> Array:
    """Latent log baseline value of a lab: log(median) + sd_G.z, z a standard normal truncated
    at +-cvg_truncate_sd, sd_G = sqrt(ln(1 + CVG^2)) (log-normal CV, research note §3.1).
    Computed for the enrolled patients only (the inverse CDF is the costly part)."""
    sd_g = np.sqrt(np.log1p(lab.cvg**2))
    return np.log(lab.median) + sd_g * _truncated(z0, lab.cvg_truncate_sd)


def _truncated(z: Array, cut: Array | float) -> Array:
    """Standard normals mapped onto a normal truncated at +-cut by the inverse CDF (keeps the
    draws' order, so the random stream is unchanged): Phi^-1(Phi(-c) + Phi(z).(1 - 2.Phi(-c)))."""
    lo = ndtr(-np.asarray(cut))
    return ndtri(lo + ndtr(z) * (1.0 - 2.0 * lo))


def _insulin_for_fpg(lb: Array, ls: Array, fpg: float, kappa: float) -> Array:
    """Insulin dose (U/kg/day) that brings the QSS glucose to `fpg`, 0 if none is needed.

    S.(KFSI.B.(G - 3.5) + X).G = KFPG solved for X (research note §4.2) at G = fpg, X = kappa.dose:
    physicians titrate a stable regimen so that it causes no hypoglycaemia [A]."""
    b, s = logistic_fraction(lb), logistic_fraction(ls)
    x = KFPG / (s * fpg) - fsi_endogenous(b, np.asarray(fpg))
    return np.maximum(x, 0.0) / kappa


def sample_cohort(
    preset: Preset, rng: np.random.Generator, n_trials: int, n_candidates: int, n_visits: int
) -> Cohort:
    shape = (n_trials, n_candidates)
    pop, lat, reg = preset.population, preset.latent, preset.regimen
    male = rng.random(shape) < pop.male_fraction
    age = _normal(rng, pop.age, shape)
    duration = np.maximum(_normal(rng, pop.duration_years, shape), 0.1)
    bmi = _normal(rng, pop.bmi, shape)
    height = np.where(
        male, _normal(rng, pop.height_male_cm, shape), _normal(rng, pop.height_female_cm, shape)
    )
    weight = bmi * (height / 100.0) ** 2
    z1, z2 = rng.standard_normal(shape), rng.standard_normal(shape)
    lb = lat.lb_mean + lat.lb_sd * z1
    ls = lat.ls_mean + lat.ls_sd * (lat.rho_bs * z1 + np.sqrt(1 - lat.rho_bs**2) * z2)
    rb = lat.rb_mean + lat.rb_sd * rng.standard_normal(shape)
    ppg = lat.ppg_scale * PPG_HBA1C * _lognormal_mult(rng, lat.ppg_log_sd, shape)
    c_cp = lat.c_cp * _lognormal_mult(rng, lat.c_cp_log_sd, shape)
    pg2h_eta = lat.pg2h_sd * rng.standard_normal(shape)
    cp2h_eta = lat.cp2h_sd * rng.standard_normal(shape)
    # Insulin by indication: the worse the beta-cell function (higher lb), the likelier
    # insulin; propensity correlated with lb by `insulin_indication` [A].
    rho = reg.insulin_indication
    propensity = rho * z1 + np.sqrt(1 - rho**2) * rng.standard_normal(shape)
    on_insulin = propensity > ndtri(1.0 - reg.insulin_fraction)
    ins_dose = reg.insulin_u_per_kg_median * _lognormal_mult(
        rng, reg.insulin_u_per_kg_log_sd, shape
    )
    insulin0 = np.where(on_insulin, ins_dose, 0.0)
    if reg.baseline_fpg_floor is not None:
        insulin0 = np.minimum(insulin0, _insulin_for_fpg(lb, ls, reg.baseline_fpg_floor, reg.kappa))
    if reg.baseline_fpg_ceiling is not None:
        need = _insulin_for_fpg(lb, ls, reg.baseline_fpg_ceiling, reg.kappa)
        insulin0 = np.maximum(insulin0, need)
        on_insulin = insulin0 > 0
    takes = np.stack([rng.random(shape) < d.fraction for d in reg.oral])
    # Everyone in both studies is on treatment (Lian 2022 Methods; Chin 2025 registry):
    # a patient who drew no agent takes the first oral drug of the preset.
    untreated = ~on_insulin & ~takes.any(axis=0)
    takes[0] |= untreated
    # baseline dose in DDD units, DDD from celltrial.clinical.drugs (WHOCC)
    ddd = np.array([d.dose_mg / d.ddd_mg for d in reg.oral])[:, None, None]
    oral_x0 = np.where(takes, ddd, 0.0)
    msc = preset.msc
    responder = rng.random(shape) < msc.responder_fraction
    emax_b = np.where(responder, msc.emax_b * _lognormal_mult(rng, msc.emax_log_sd, shape), 0.0)
    emax_s = np.where(responder, msc.emax_s * _lognormal_mult(rng, msc.emax_log_sd, shape), 0.0)
    te = preset.trial_effect
    trial_mult = _lognormal_mult(rng, te.size_log_sd, shape)
    n_lab = len(preset.labs)
    lab_z0 = rng.standard_normal((n_lab, *shape))
    lab_z = rng.standard_normal((n_lab, *shape, n_visits))
    screen_u = rng.standard_normal(shape)
    return Cohort(
        male=male,
        age=age,
        duration=duration,
        height_cm=height,
        weight=weight,
        lb=lb,
        ls=ls,
        rb=rb,
        ppg=ppg,
        c_cp=c_cp,
        pg2h_eta=pg2h_eta,
        cp2h_eta=cp2h_eta,
        insulin0=insulin0,
        oral_x0=oral_x0,
        emax_b=emax_b,
        emax_s=emax_s,
        trial_size=te.size * trial_mult,
        trial_size_b=te.size_b * trial_mult,
        lab_z0=lab_z0,
        lab_z=lab_z,
        screen_u=screen_u,
    )
