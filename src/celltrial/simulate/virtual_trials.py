"""Simulated trials as arrays: screen candidates, enrol, dose, and run the calendar.

`simulate_trials` is the array-level entry point used by the study builder, calibration,
power analysis and the benchmark. The same (preset, sizes, seed) always gives the same arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from celltrial.protocol import Protocol, load_protocol
from celltrial.protocol.eligibility import age_within, value_within
from celltrial.protocol.model import AgeCriterion, MeasurementCriterion
from celltrial.simulate.closed_loop import Titrator
from celltrial.simulate.cohort import Cohort, sample_cohort
from celltrial.simulate.physiology import Array, fpg_qss, hba1c_steady, logistic_fraction
from celltrial.simulate.preset import Preset
from celltrial.simulate.trial import Design, Trajectories, run_days

# Candidates screened per enrolled place; HbA1c 7-9.5 % admits most of a T2D clinic.
CANDIDATES_PER_PLACE = 2.5
# A pool short of eligible candidates is drawn again this many times larger, at most
# MAX_POOL_ROUNDS times (2.5 x 4^3 = 160 candidates per place: an eligible share < 1 %
# is a protocol the preset's population does not fit, reported as a shortfall).
POOL_GROWTH = 4
MAX_POOL_ROUNDS = 4


@dataclass
class SimulatedTrials:
    preset: Preset
    protocol: Protocol
    design: Design
    cohort: Cohort  # enrolled patients, (T, N)
    screening: dict[str, Array]  # analyte -> (T, N) screening value of enrolled patients
    eligible: Array  # (T, N) bool: passed every simulated criterion
    dose_cells: Array  # (n_infusions, T, N)
    long_follow_up: Array  # (T, N) bool: followed through the long follow-up visits
    traj: Trajectories
    # (T, N) bool: randomized to UC-MSC (False: placebo, the MSC effect off); None: all UC-MSC
    msc_arm: Array | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.cohort.lb.shape

    def observed(self) -> Array:
        """(V, T, N): the visit took place (before dropout, within the patient's follow-up)."""
        obs = self.traj.observed.copy()
        for v, vid in enumerate(self.design.visit_ids):
            if vid in self.preset.long_follow_up_visits:
                obs[v] &= self.long_follow_up
        return obs


def _baseline_hba1c(preset: Preset, c: Cohort) -> Array:
    x = preset.regimen.kappa * c.insulin0
    fpg = fpg_qss(logistic_fraction(c.lb), logistic_fraction(c.ls), x)
    return hba1c_steady(fpg, c.ppg)


def screening_values(preset: Preset, cohort: Cohort, rng: np.random.Generator) -> dict[str, Array]:
    """Values seen at screening: HbA1c from the model with its measurement CV, the other
    screening analytes of the preset drawn from their normal distributions."""
    shape = cohort.lb.shape
    hba1c = _baseline_hba1c(preset, cohort) * (1.0 + preset.screening_hba1c_cv * cohort.screen_u)
    out = {"hba1c": hba1c}
    for analyte, spec in preset.screening.items():
        v = spec.mean + spec.sd * rng.standard_normal(shape)
        out[analyte] = np.clip(v, spec.min, spec.max) if spec.min is not None else v
    return out


def enrolment_lead_days(protocol: Protocol) -> int:
    """Days from a simulated patient's enrolment to day 0: the protocol's run-in, or the
    baseline window when that is longer (its values are taken after enrolment)."""
    return max(protocol.run_in_days, protocol.baseline_visit.window_before)


def eligible_mask(protocol: Protocol, age: Array, values: dict[str, Array]) -> Array:
    """Age (`age`: years at enrolment) and measurement criteria of the protocol evaluated on
    the simulated values by the rules screen() uses (celltrial.protocol.eligibility).
    Checklist and medication criteria are met by construction (the simulated regimens hold
    no excluded drug and the simulated patients no excluded condition)."""
    ok = np.ones(age.shape, dtype=bool)
    to_infusion = (enrolment_lead_days(protocol) + protocol.dosing.infusion_days[0]) / 365.25
    for c in protocol.eligibility:  # one step per criterion, each over all candidates
        if isinstance(c, AgeCriterion):
            later = to_infusion if c.at == "first_infusion" else 0.0
            ok &= age_within(c, np.floor(age + later))  # completed years, as screen()
        elif isinstance(c, MeasurementCriterion) and c.analyte in values:
            ok &= value_within(c, values[c.analyte])
    return ok


def _doses(protocol: Protocol, weight: Array, rng: np.random.Generator) -> Array:
    d = protocol.dosing
    shape = (d.n_infusions, *weight.shape)
    if d.mode == "weight_based":
        return np.broadcast_to(d.cells_per_kg * weight, shape).copy()
    # Flat dose: uniform over the protocol's range (Chin 2025 C4 "50 to 100 million").
    u = rng.random(shape)
    return np.round(d.flat_min_cells + u * (d.flat_max_cells - d.flat_min_cells), -6)


class ScreeningShortfall(ValueError):
    """The protocol's criteria admit too few simulated candidates to fill the trials."""


def _screened_pool(
    preset: Preset,
    protocol: Protocol,
    design: Design,
    rng: np.random.Generator,
    n_trials: int,
    n_patients: int,
) -> tuple[Cohort, dict[str, Array], Array]:
    """Candidates, their screening values and eligibility, with at least n_patients eligible
    in every trial: a pool short anywhere is drawn again, POOL_GROWTH times larger (one
    vectorized draw per attempt, never a candidate at a time), up to MAX_POOL_ROUNDS."""
    n_cand = int(np.ceil(CANDIDATES_PER_PLACE * n_patients)) + 4
    for _ in range(MAX_POOL_ROUNDS):
        cand = sample_cohort(preset, rng, n_trials, n_cand, len(design.visit_ids))
        values = screening_values(preset, cand, rng)
        ok = eligible_mask(protocol, cand.age, values)
        fewest = int(ok.sum(axis=1).min())
        if fewest >= n_patients:
            return cand, values, ok
        n_cand *= POOL_GROWTH
    raise ScreeningShortfall(
        f"protocol {protocol.id}: only {fewest} of {n_cand // POOL_GROWTH} simulated candidates "
        f"of preset {preset.id} pass its eligibility criteria in the worst trial, "
        f"{n_patients - fewest} short of {n_patients} places; widen the criteria or the "
        "preset's population"
    )


def simulate_trials(
    preset: Preset,
    n_trials: int,
    n_patients: int,
    seed: int,
    protocol: Protocol | None = None,
    on_day: Callable[[int], None] | None = None,
    msc_arm: Array | None = None,
) -> SimulatedTrials:
    """Simulate n_trials trials of n_patients enrolled patients each, from one seed.

    msc_arm: (n_patients,) or (n_trials, n_patients) bool, True where the patient receives
    UC-MSC; a placebo patient (False) is infused and followed alike but has no MSC effect (its
    Emax is 0) and no cell-infusion fever, while the trial-participation effect is kept
    (research note §5.2, Zang 2022 placebo arm). The random draws do not depend on msc_arm, so
    the same seed gives the same patients whatever the arms (common random numbers)."""
    protocol = protocol or load_protocol(preset.protocol)
    rng = np.random.default_rng(seed)
    design = Design.from_protocol(protocol, preset)
    cand, values, ok = _screened_pool(preset, protocol, design, rng, n_trials, n_patients)
    # Enrol the first eligible candidates in screening order (stable sort keeps the order);
    # the pool holds enough eligible candidates for every trial (_screened_pool).
    idx = np.argsort(~ok, axis=1, kind="stable")[:, :n_patients]
    cohort = cand.take(idx)
    arm = None if msc_arm is None else np.broadcast_to(msc_arm, cohort.lb.shape)
    if arm is not None:
        cohort.emax_b = np.where(arm, cohort.emax_b, 0.0)
        cohort.emax_s = np.where(arm, cohort.emax_s, 0.0)
    screen = {k: np.take_along_axis(v, idx, axis=1) for k, v in values.items()}
    eligible = np.take_along_axis(ok, idx, axis=1)
    doses = _doses(protocol, cohort.weight, rng)
    n_long = preset.n_long_follow_up
    long_fu = np.ones(cohort.lb.shape, dtype=bool)
    if n_long is not None and n_long < n_patients:
        rank = np.argsort(rng.random(cohort.lb.shape), axis=1).argsort(axis=1)
        long_fu = rank < n_long
    titrator = Titrator(protocol.titration, preset.titration_allow_increase, preset.regimen)
    per_kg = doses / cohort.weight[None] / 1e6  # MSC signal in 10^6 cells/kg (Lian dose = 1)
    traj = run_days(preset, design, cohort, per_kg, titrator, rng, on_day)
    if arm is not None:
        traj.fever &= arm[None]  # fever is a reaction to the cells (research note §4.4)
    return SimulatedTrials(
        preset, protocol, design, cohort, screen, eligible, doses, long_fu, traj, arm
    )
