"""Titration advice from glucose readings, vectorized over NumPy arrays of any shape.

The simulator calls these on (trials, patients) arrays, the registry on one patient's
scalars (0-d arrays come back). Rules and numbers come from the protocol's `titration`
section (Lian 2022 L143-149 for the trial); no copy of them lives anywhere else.

Target bounds are inclusive: FPG 7.0 mmol/L is within 4.4-7.0, FPG 7.01 is above; 4.4 is
within, 4.39 is below. Hypoglycaemia is a reading strictly below `hypo_below` (ADA level 1:
< 3.9 mmol/L) or an event flagged by the caller. NaN readings are ignored; with no reading
at all the advice is to keep the dose.

De-escalation (optional `deescalate_when_stable` section): the protocol's policy for
reducing doses while glucose is inside the targets, as Lian 2022 did in every patient
(L143-149, L196-199); the paper gives no rule, so its thresholds are assumptions stated in
the protocol file. It applies only when every available reading is inside the targets
(none low, none above): then either every reading is strictly below the de-escalation
thresholds (the lower part of the target, where a fixed dose risks hypoglycaemia), or FPG is
at most (1 - fpg_fall_fraction) x `fpg_reference`, the reading the current dose was set on
(one step per fall, not one per week). It comes after every safety rule and before the
above-target rule, so a reading above target is never answered with a cut, unless the
protocol sets `fall_cut_fpg_max`: then a fall by the fraction is answered with a cut while
FPG is at most that ceiling, even above target (never on low glucose).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from celltrial.protocol.model import Deescalation, Titration

ArrayLike = float | int | bool | npt.ArrayLike


class Action(IntEnum):
    KEEP = 0
    DECREASE = 1
    INCREASE = 2
    WITHDRAW = 3


class Reason(IntEnum):
    IN_TARGET = 0
    NOT_ON_DRUG = 1
    NO_GLUCOSE = 2
    HYPOGLYCAEMIA = 3
    BELOW_TARGET = 4
    ABOVE_TARGET = 5
    INSULIN_AT_WITHDRAWAL_DOSE = 6
    DECREASE_REACHES_WITHDRAWAL = 7
    STABLE_ON_LOWEST_SINGLE_ORAL = 8
    STABLE_DEESCALATE = 9
    IMPROVED_DEESCALATE = 10
    DEESCALATION_REACHES_WITHDRAWAL = 11
    NO_WEIGHT = 12

    @property
    def text(self) -> str:
        return _TEXTS[self]


_TEXTS = {
    Reason.IN_TARGET: "Glucose is within the target ranges; keep the dose.",
    Reason.NOT_ON_DRUG: "The participant is not taking this drug; nothing to adjust.",
    Reason.NO_GLUCOSE: "No glucose reading is available; keep the dose.",
    Reason.HYPOGLYCAEMIA: "Hypoglycaemia (reading below the hypoglycaemia threshold or an "
    "event reported); decrease the dose.",
    Reason.BELOW_TARGET: "Glucose is below the target range; decrease the dose.",
    Reason.ABOVE_TARGET: "Glucose is above the target range; increase the dose.",
    Reason.INSULIN_AT_WITHDRAWAL_DOSE: "The total daily insulin dose is at or below the "
    "protocol's withdrawal threshold (U/kg); withdraw exogenous insulin.",
    Reason.DECREASE_REACHES_WITHDRAWAL: "Glucose is low and the reduced dose reaches the "
    "withdrawal rule; withdraw the drug.",
    Reason.STABLE_ON_LOWEST_SINGLE_ORAL: "Glucose is stable on the lowest dose of a single "
    "oral agent; withdraw it.",
    Reason.STABLE_DEESCALATE: "Glucose is stable below the protocol's de-escalation "
    "thresholds; reduce the dose by the de-escalation step.",
    Reason.IMPROVED_DEESCALATE: "Fasting glucose has fallen below the pre-treatment value by "
    "at least the protocol's fraction; reduce the dose by the de-escalation step to keep "
    "the level stable.",
    Reason.DEESCALATION_REACHES_WITHDRAWAL: "Glucose is stable and the de-escalated insulin "
    "dose reaches the withdrawal threshold (U/kg); withdraw exogenous insulin.",
    Reason.NO_WEIGHT: "No body weight is recorded, so the protocol's insulin withdrawal rule "
    "(U/kg) cannot be checked; keep the dose and record the weight.",
}


@dataclass(frozen=True)
class Advice:
    action: npt.NDArray[np.int8]  # Action codes
    reason: npt.NDArray[np.int8]  # Reason codes
    new_dose: npt.NDArray[np.float64]  # NaN when the caller gave no dose

    def texts(self) -> npt.NDArray[np.str_]:
        """The reason sentence for each element."""
        table = np.array([_TEXTS[r] for r in Reason])
        return table[self.reason]


@dataclass(frozen=True)
class _Glucose:
    have: npt.NDArray[np.bool_]
    hypo: npt.NDArray[np.bool_]
    below: npt.NDArray[np.bool_]
    above: npt.NDArray[np.bool_]


def _glucose(fpg: ArrayLike, pg2h: ArrayLike, hypo: ArrayLike | None, r: Titration) -> _Glucose:
    f = np.asarray(fpg, dtype=float)
    p = np.asarray(pg2h, dtype=float)
    event = np.zeros((), bool) if hypo is None else np.asarray(hypo, dtype=bool)
    # Comparisons with NaN are False, so a missing reading never triggers a rule.
    return _Glucose(
        have=~np.isnan(f) | ~np.isnan(p),
        hypo=event | (f < r.hypo_below) | (p < r.hypo_below),
        below=(f < r.fpg_low) | (p < r.pg2h_low),
        above=(f > r.fpg_high) | (p > r.pg2h_high),
    )


@dataclass(frozen=True)
class _Stable:
    low: npt.NDArray[np.bool_]  # every reading below the de-escalation thresholds
    improved: npt.NDArray[np.bool_]  # FPG fell by the fraction from the reference

    @property
    def any(self) -> npt.NDArray[np.bool_]:
        return self.low | self.improved


def _stable(
    fpg: ArrayLike, pg2h: ArrayLike, g: _Glucose, d: Deescalation | None, ref: ArrayLike | None
) -> _Stable:
    """Where the de-escalation rule applies: only with every reading inside the targets
    (never on low glucose, never with a reading above target, never without a reading)."""
    if d is None:
        none = np.zeros((), bool)
        return _Stable(none, none)
    f = np.asarray(fpg, dtype=float)
    p = np.asarray(pg2h, dtype=float)
    # a reading above target means the dose is not too high: cutting it would be unsafe
    ok = g.have & ~g.hypo & ~g.below & ~g.above
    # a missing reading does not block de-escalation; at least one reading is required (ok)
    low = ok & ((f < d.fpg_below) | np.isnan(f)) & ((p < d.pg2h_below) | np.isnan(p))
    if d.fpg_fall_fraction is None or ref is None:
        return _Stable(low, np.zeros((), bool))
    r = np.asarray(ref, dtype=float)
    if d.fall_cut_fpg_max is not None:
        # the protocol allows a cut after a fall while FPG is still above target, up to a
        # ceiling; never on low glucose
        ok = ok | (g.have & ~g.hypo & ~g.below & (f <= d.fall_cut_fpg_max))
    # NaN FPG or NaN reference compare False: no improvement claimed without both
    improved = ok & (f <= (1.0 - d.fpg_fall_fraction) * r)
    return _Stable(low, improved)


def _choose(
    rules: list[tuple[npt.NDArray[np.bool_], Action, Reason, npt.NDArray[np.float64]]],
    default: tuple[Action, Reason, npt.NDArray[np.float64]],
) -> Advice:
    """First matching rule wins (np.select semantics): the rule index is chosen once, the
    codes are looked up from it, and each dose is written where its rule won."""
    conds = [c for c, *_ in rules]
    idx = np.select(conds, np.arange(len(rules), dtype=np.int8), np.int8(len(rules)))
    actions = np.array([int(a) for _, a, _, _ in rules] + [int(default[0])], dtype=np.int8)
    reasons = np.array([int(r) for _, _, r, _ in rules] + [int(default[1])], dtype=np.int8)
    dose = np.array(default[2], dtype=float, copy=True)
    for k, (*_, d) in enumerate(rules):
        np.copyto(dose, d, where=idx == k)
    return Advice(actions[idx], reasons[idx], dose)


def advise_insulin(
    fpg: ArrayLike,
    pg2h: ArrayLike,
    insulin_u_per_day: ArrayLike,
    weight_kg: ArrayLike,
    rules: Titration,
    hypo: ArrayLike | None = None,
    fpg_reference: ArrayLike | None = None,
) -> Advice:
    """Insulin advice, first rule that applies:
    not on insulin -> keep; no weight (NaN) under a U/kg withdrawal rule and glucose not low
    -> keep (NO_WEIGHT); dose <= withdraw threshold x weight -> withdraw (Lian L146-148);
    low glucose and the reduced dose <= threshold -> withdraw; hypoglycaemia or below target
    -> decrease by max(fraction x dose, min U); no reading -> keep; stable (de-escalation
    rule) and the de-escalated dose <= threshold -> withdraw; stable below the thresholds, or
    FPG fallen from `fpg_reference` -> decrease by the de-escalation step; above target ->
    increase by `insulin_increase_u`; otherwise keep."""
    g = _glucose(fpg, pg2h, hypo, rules)
    d = rules.deescalate_when_stable
    st = _stable(fpg, pg2h, g, d, fpg_reference)
    dose = np.asarray(insulin_u_per_day, dtype=float)
    weight = np.asarray(weight_kg, dtype=float)
    on = dose > 0
    per_kg = rules.insulin_withdraw_u_per_kg
    limit = np.full(np.shape(weight), -np.inf) if per_kg is None else per_kg * weight
    step = np.maximum(dose * rules.insulin_decrease_fraction, rules.insulin_decrease_min_u)
    reduced = np.maximum(dose - step, 0.0)
    eased = dose * (1.0 - (d.insulin_step_fraction if d is not None else 0.0))
    low = g.hypo | g.below
    zero = np.zeros(np.broadcast_shapes(dose.shape, g.have.shape, weight.shape, st.any.shape))
    # NaN weight makes every U/kg comparison False: say so instead of silently skipping the
    # withdrawal rule (low glucose still decreases: that needs no weight)
    unweighed = np.isnan(weight) & (per_kg is not None) & ~low
    return _choose(
        [
            (~on, Action.KEEP, Reason.NOT_ON_DRUG, dose + zero),
            (unweighed, Action.KEEP, Reason.NO_WEIGHT, dose + zero),
            (dose <= limit, Action.WITHDRAW, Reason.INSULIN_AT_WITHDRAWAL_DOSE, zero),
            (low & (reduced <= limit), Action.WITHDRAW, Reason.DECREASE_REACHES_WITHDRAWAL, zero),
            (g.hypo, Action.DECREASE, Reason.HYPOGLYCAEMIA, reduced + zero),
            (g.below, Action.DECREASE, Reason.BELOW_TARGET, reduced + zero),
            (~g.have, Action.KEEP, Reason.NO_GLUCOSE, dose + zero),
            (
                st.any & (eased <= limit),
                Action.WITHDRAW,
                Reason.DEESCALATION_REACHES_WITHDRAWAL,
                zero,
            ),
            (st.low, Action.DECREASE, Reason.STABLE_DEESCALATE, eased + zero),
            (st.improved, Action.DECREASE, Reason.IMPROVED_DEESCALATE, eased + zero),
            (g.above, Action.INCREASE, Reason.ABOVE_TARGET, dose + rules.insulin_increase_u + zero),
        ],
        (Action.KEEP, Reason.IN_TARGET, dose + zero),
    )


def advise_oral(
    fpg: ArrayLike,
    pg2h: ArrayLike,
    n_oral_agents: ArrayLike,
    at_lowest_dose: ArrayLike,
    rules: Titration,
    daily_dose: ArrayLike | None = None,
    hypo: ArrayLike | None = None,
    stable: ArrayLike | None = None,
    fpg_reference: ArrayLike | None = None,
) -> Advice:
    """Oral-agent advice, first rule that applies:
    no agent -> keep; low glucose on the lowest dose of a single agent -> withdraw;
    hypoglycaemia or below target -> decrease; no reading -> keep; stable (default: in
    target now) on the lowest dose of a single agent -> withdraw (Lian L148-149); not yet on
    the lowest dose and stable below the de-escalation thresholds, or FPG fallen from
    `fpg_reference` -> decrease by the de-escalation step; above target -> increase;
    otherwise keep. `new_dose` scales `daily_dose` by 1 -/+ `oral_step_fraction` (the
    de-escalation step for de-escalation; NaN when no dose is given)."""
    g = _glucose(fpg, pg2h, hypo, rules)
    d = rules.deescalate_when_stable
    st = _stable(fpg, pg2h, g, d, fpg_reference)
    n = np.asarray(n_oral_agents)
    lowest = np.asarray(at_lowest_dose, dtype=bool)
    in_target = g.have & ~g.hypo & ~g.below & ~g.above
    steady = in_target if stable is None else np.asarray(stable, dtype=bool) & in_target
    single_lowest = (n == 1) & lowest & rules.oral_withdraw_single_lowest
    dose = np.asarray(np.nan if daily_dose is None else daily_dose, dtype=float)
    shapes = (n.shape, lowest.shape, g.have.shape, dose.shape, st.any.shape)
    zero = np.zeros(np.broadcast_shapes(*shapes))
    down = dose * (1 - rules.oral_step_fraction) + zero
    eased = dose * (1 - (d.oral_step_fraction if d is not None else 0.0)) + zero
    low = g.hypo | g.below
    withdraw_low = Reason.DECREASE_REACHES_WITHDRAWAL
    return _choose(
        [
            (n <= 0, Action.KEEP, Reason.NOT_ON_DRUG, dose + zero),
            (low & single_lowest, Action.WITHDRAW, withdraw_low, zero),
            (g.hypo, Action.DECREASE, Reason.HYPOGLYCAEMIA, down),
            (g.below, Action.DECREASE, Reason.BELOW_TARGET, down),
            (~g.have, Action.KEEP, Reason.NO_GLUCOSE, dose + zero),
            (steady & single_lowest, Action.WITHDRAW, Reason.STABLE_ON_LOWEST_SINGLE_ORAL, zero),
            (st.low & ~lowest, Action.DECREASE, Reason.STABLE_DEESCALATE, eased),
            (st.improved & ~lowest, Action.DECREASE, Reason.IMPROVED_DEESCALATE, eased),
            (g.above, Action.INCREASE, Reason.ABOVE_TARGET, dose * (1 + rules.oral_step_fraction)),
        ],
        (Action.KEEP, Reason.IN_TARGET, dose + zero),
    )
