"""Titration rules at their thresholds (Lian 2022 L143-149), on scalars and arrays."""

from __future__ import annotations

import numpy as np
import pytest

from celltrial.protocol import load_protocol
from celltrial.protocol.titration import Action, Reason, advise_insulin, advise_oral

RULES = load_protocol("lian2022").titration
assert RULES is not None


@pytest.mark.parametrize(
    ("fpg", "pg2h", "action", "reason"),
    [
        (7.0, 10.0, Action.KEEP, Reason.IN_TARGET),  # upper bounds are inside the target
        (4.4, 10.0, Action.KEEP, Reason.IN_TARGET),  # bounds inside; 10.0 not below 10.0
        (7.01, 9.0, Action.INCREASE, Reason.ABOVE_TARGET),
        (6.0, 10.01, Action.INCREASE, Reason.ABOVE_TARGET),
        (4.39, 9.0, Action.DECREASE, Reason.BELOW_TARGET),
        (3.89, 9.0, Action.DECREASE, Reason.HYPOGLYCAEMIA),  # ADA level 1: < 3.9
        (3.9, 9.0, Action.DECREASE, Reason.BELOW_TARGET),
        (np.nan, np.nan, Action.KEEP, Reason.NO_GLUCOSE),
        (np.nan, 12.0, Action.INCREASE, Reason.ABOVE_TARGET),
    ],
)
def test_insulin_targets(fpg: float, pg2h: float, action: Action, reason: Reason) -> None:
    advice = advise_insulin(fpg, pg2h, 40.0, 80.0, RULES)
    assert (int(advice.action), int(advice.reason)) == (action, reason)


def test_insulin_step_sizes_by_hand() -> None:
    # Above target: 40 + 2 = 42 U. Below: 40 - max(10 % x 40, 2) = 36 U;
    # 12 U dose on 40 kg: 12 - max(1.2, 2) = 10 U > 0.2 x 40 = 8 U, a plain decrease.
    advice = advise_insulin([8.0, 4.0, 4.0], 9.0, [40.0, 40.0, 12.0], [80.0, 80.0, 40.0], RULES)
    np.testing.assert_allclose(advice.new_dose, [42.0, 36.0, 10.0])


def test_insulin_withdrawal_threshold_is_inclusive() -> None:
    # 0.2 U/kg x 70 kg = 14 U: 14 U is withdrawn, 14.1 U is not (glucose in target, at
    # the upper bound 7.0 so the de-escalation rule, FPG < 7.0, does not apply).
    advice = advise_insulin(7.0, 8.0, [14.0, 14.1], 70.0, RULES)
    assert advice.action.tolist() == [Action.WITHDRAW, Action.KEEP]
    assert advice.reason[0] == Reason.INSULIN_AT_WITHDRAWAL_DOSE
    assert advice.new_dose.tolist() == [0.0, 14.1]


def test_reduction_that_reaches_the_threshold_withdraws() -> None:
    # 16 U on 70 kg, below target: 16 - 2 = 14 U <= 14 U -> withdraw.
    advice = advise_insulin(4.0, 8.0, 16.0, 70.0, RULES)
    assert (int(advice.action), int(advice.reason)) == (
        Action.WITHDRAW,
        Reason.DECREASE_REACHES_WITHDRAWAL,
    )


def test_not_on_insulin_and_reported_hypo_event() -> None:
    advice = advise_insulin([6.0, 6.0], 8.0, [0.0, 40.0], 70.0, RULES, hypo=[False, True])
    assert advice.reason.tolist() == [Reason.NOT_ON_DRUG, Reason.HYPOGLYCAEMIA]
    assert Reason(advice.reason[1]).text.startswith("Hypoglycaemia")


def test_arrays_of_trials_by_patients_match_elementwise_scalars() -> None:
    rng = np.random.default_rng(1)
    fpg = rng.uniform(3.0, 12.0, (4, 25))
    dose = rng.choice([0.0, 10.0, 20.0, 40.0], (4, 25))
    weight = rng.uniform(50, 100, (4, 25))
    whole = advise_insulin(fpg, 9.0, dose, weight, RULES)
    assert whole.action.shape == (4, 25) and whole.action.dtype == np.int8
    for i, j in [(0, 0), (1, 7), (3, 24), (2, 13)]:
        one = advise_insulin(fpg[i, j], 9.0, dose[i, j], weight[i, j], RULES)
        assert (one.action, one.new_dose) == (whole.action[i, j], whole.new_dose[i, j])


@pytest.mark.parametrize(
    ("fpg", "n", "lowest", "action", "reason"),
    [
        (6.0, 1, True, Action.WITHDRAW, Reason.STABLE_ON_LOWEST_SINGLE_ORAL),
        (6.0, 2, True, Action.KEEP, Reason.IN_TARGET),  # two agents: not a single agent
        (5.5, 1, False, Action.DECREASE, Reason.STABLE_DEESCALATE),  # < 5.6: one step down
        (6.0, 1, False, Action.KEEP, Reason.IN_TARGET),  # in target, not low: keep
        (7.01, 1, True, Action.INCREASE, Reason.ABOVE_TARGET),  # not stable
        (4.0, 1, True, Action.WITHDRAW, Reason.DECREASE_REACHES_WITHDRAWAL),
        (4.0, 2, False, Action.DECREASE, Reason.BELOW_TARGET),
        (6.0, 0, False, Action.KEEP, Reason.NOT_ON_DRUG),
    ],
)
def test_oral_rules(fpg: float, n: int, lowest: bool, action: Action, reason: Reason) -> None:
    advice = advise_oral(fpg, 7.0, n, lowest, RULES, daily_dose=1000.0)
    assert (int(advice.action), int(advice.reason)) == (action, reason)


def test_oral_new_dose_halves_and_doubles_and_stable_flag() -> None:
    advice = advise_oral([4.0, 8.0], 8.0, 2, False, RULES, daily_dose=1000.0)
    np.testing.assert_allclose(advice.new_dose, [500.0, 1500.0])  # 1000 x (1 -/+ 0.5)
    held = advise_oral(6.0, 8.0, 1, True, RULES, stable=False)
    assert int(held.action) == Action.KEEP and np.isnan(held.new_dose)


# ---------------------------------------------------------------- de-escalation policy
# lian2022.yaml (assumed policy): only with every reading inside the targets; a step when
# FPG < 5.6 and 2-h PG < 7.8 (ADA normal values, strict), or FPG <= 0.90 x reference;
# steps: insulin x 0.80, oral x 0.67; insulin withdrawal at <= 0.2 U/kg.


def test_deescalation_rule_is_declared_in_the_lian_protocol() -> None:
    d = RULES.deescalate_when_stable
    assert d is not None
    assert (d.fpg_below, d.pg2h_below, d.fpg_fall_fraction) == (5.6, 7.8, 0.10)
    chin = load_protocol("chin2025").titration
    assert chin is not None and chin.deescalate_when_stable is None


@pytest.mark.parametrize(
    ("fpg", "pg2h", "ref", "action", "reason", "dose"),
    [
        (5.59, 7.79, np.nan, Action.DECREASE, Reason.STABLE_DEESCALATE, 32.0),  # 40 x 0.80
        (5.6, 7.0, np.nan, Action.KEEP, Reason.IN_TARGET, 40.0),  # 5.6 is not below 5.6
        (5.0, 7.8, np.nan, Action.KEEP, Reason.IN_TARGET, 40.0),  # 7.8 is not below 7.8
        (6.5, 9.0, np.nan, Action.KEEP, Reason.IN_TARGET, 40.0),  # in target: no cut per step
        (4.4, 4.4, np.nan, Action.DECREASE, Reason.STABLE_DEESCALATE, 32.0),  # lowest in target
        (4.39, 7.0, np.nan, Action.DECREASE, Reason.BELOW_TARGET, 36.0),  # safety rule first
        (5.0, np.nan, np.nan, Action.DECREASE, Reason.STABLE_DEESCALATE, 32.0),  # 2-h missing
        (6.3, 9.0, 7.0, Action.DECREASE, Reason.IMPROVED_DEESCALATE, 32.0),  # 6.3 = 0.9 x 7.0
        (6.31, 9.0, 7.0, Action.KEEP, Reason.IN_TARGET, 40.0),  # fell only 9.9 %
        (6.3, 9.0, np.nan, Action.KEEP, Reason.IN_TARGET, 40.0),  # no reference, no fall
    ],
)
def test_insulin_deescalation_at_its_thresholds(
    fpg: float, pg2h: float, ref: float, action: Action, reason: Reason, dose: float
) -> None:
    advice = advise_insulin(fpg, pg2h, 40.0, 80.0, RULES, fpg_reference=ref)
    assert (int(advice.action), int(advice.reason)) == (action, reason)
    assert float(advice.new_dose) == pytest.approx(dose)


@pytest.mark.parametrize(
    ("fpg", "pg2h", "ref"),
    [
        (12.0, 15.0, 14.0),  # the reviewer's case: fell 14 % but FPG above the 10.0 ceiling
        (10.01, 12.0, 20.0),  # fell 50 %, FPG just above the ceiling
        (9.0, 12.0, 9.9),  # FPG under the ceiling but fell 9 %, less than 10 %
        (5.0, 12.0, np.nan),  # FPG below the de-escalation threshold, 2-h PG above target
    ],
)
def test_no_deescalation_when_a_reading_is_above_target(
    fpg: float, pg2h: float, ref: float
) -> None:
    # above target -> increase by 2 U (40 -> 42), never a cut; oral: x 1.5
    insulin = advise_insulin(fpg, pg2h, 40.0, 80.0, RULES, fpg_reference=ref)
    assert (int(insulin.action), int(insulin.reason)) == (Action.INCREASE, Reason.ABOVE_TARGET)
    assert float(insulin.new_dose) == pytest.approx(42.0)
    oral = advise_oral(fpg, pg2h, 2, False, RULES, daily_dose=1000.0, fpg_reference=ref)
    assert (int(oral.action), int(oral.reason)) == (Action.INCREASE, Reason.ABOVE_TARGET)
    assert float(oral.new_dose) == pytest.approx(1500.0)


def test_deescalated_insulin_at_the_withdrawal_dose_is_withdrawn() -> None:
    # 70 kg: threshold 0.2 x 70 = 14 U. 17 U x 0.80 = 13.6 <= 14 -> withdraw;
    # 18 U x 0.80 = 14.4 > 14 -> de-escalate to 14.4 U.
    advice = advise_insulin(5.0, 7.0, [17.0, 18.0], 70.0, RULES)
    assert advice.action.tolist() == [Action.WITHDRAW, Action.DECREASE]
    assert advice.reason.tolist() == [
        Reason.DEESCALATION_REACHES_WITHDRAWAL,
        Reason.STABLE_DEESCALATE,
    ]
    np.testing.assert_allclose(advice.new_dose, [0.0, 14.4])
    assert Reason.DEESCALATION_REACHES_WITHDRAWAL.text.startswith("Glucose is stable")


@pytest.mark.parametrize(
    ("fpg", "ref", "n", "lowest", "action", "reason", "dose"),
    [
        (5.0, np.nan, 2, False, Action.DECREASE, Reason.STABLE_DEESCALATE, 670.0),  # x 0.67
        (5.0, np.nan, 2, True, Action.KEEP, Reason.IN_TARGET, 1000.0),  # cannot go lower
        (6.0, np.nan, 1, True, Action.WITHDRAW, Reason.STABLE_ON_LOWEST_SINGLE_ORAL, 0.0),
        (6.3, 7.0, 2, False, Action.DECREASE, Reason.IMPROVED_DEESCALATE, 670.0),
        (6.5, 7.0, 2, False, Action.KEEP, Reason.IN_TARGET, 1000.0),  # fell 7 % only
        (9.0, 10.0, 1, True, Action.INCREASE, Reason.ABOVE_TARGET, 1500.0),  # above target
    ],
)
def test_oral_deescalation_at_its_thresholds(
    fpg: float,
    ref: float,
    n: int,
    lowest: bool,
    action: Action,
    reason: Reason,
    dose: float,
) -> None:
    advice = advise_oral(fpg, 7.0, n, lowest, RULES, daily_dose=1000.0, fpg_reference=ref)
    assert (int(advice.action), int(advice.reason)) == (action, reason)
    assert float(advice.new_dose) == pytest.approx(dose)


def test_protocol_without_deescalation_keeps_stable_doses() -> None:
    chin = load_protocol("chin2025").titration
    assert chin is not None
    advice = advise_insulin(5.5, 8.0, 40.0, 80.0, chin, fpg_reference=10.0)
    assert (int(advice.action), int(advice.reason)) == (Action.KEEP, Reason.IN_TARGET)


@pytest.mark.parametrize("fpg", [6.0, 5.0, 9.0])  # in target, stable low, above target
def test_missing_weight_keeps_insulin_and_says_why(fpg: float) -> None:
    # 10 U is at any weight below 50 kg under the 0.2 U/kg rule; without a weight the rule
    # cannot be checked, so neither withdraw nor cut nor raise: keep 10 U with NO_WEIGHT
    advice = advise_insulin(fpg, 7.0, 10.0, np.nan, RULES)
    assert (int(advice.action), int(advice.reason)) == (Action.KEEP, Reason.NO_WEIGHT)
    assert float(advice.new_dose) == 10.0
    assert "weight" in Reason.NO_WEIGHT.text


def test_missing_weight_still_decreases_on_low_glucose() -> None:
    # hypoglycaemia needs no weight: 10 - max(10 % x 10, 2) = 8 U
    advice = advise_insulin(3.5, 7.0, 10.0, np.nan, RULES)
    assert (int(advice.action), int(advice.reason)) == (Action.DECREASE, Reason.HYPOGLYCAEMIA)
    assert float(advice.new_dose) == 8.0


def test_missing_weight_without_a_withdrawal_rule_is_not_flagged() -> None:
    chin = load_protocol("chin2025").titration  # no U/kg rule: weight is not needed
    assert chin is not None and chin.insulin_withdraw_u_per_kg is None
    advice = advise_insulin(6.0, 8.0, 10.0, np.nan, chin)
    assert (int(advice.action), int(advice.reason)) == (Action.KEEP, Reason.IN_TARGET)


@pytest.mark.parametrize(
    ("fpg", "pg2h", "ref"),
    [
        (9.0, 12.0, 10.0),  # fell exactly 10 % (9.0 = 0.9 x 10.0), FPG above 7.0, under 10.0
        (7.01, 7.0, 20.0),  # FPG just above 7.0 after a large fall
        (5.0, 10.01, 10.0),  # FPG low in target and fallen, 2-h PG above 10.0
        (10.0, 15.0, 11.2),  # at the ceiling exactly, fell 10.7 %
    ],
)
def test_a_fall_cuts_above_target_up_to_the_lian2022_ceiling(
    fpg: float, pg2h: float, ref: float
) -> None:
    # lian2022 fall_cut_fpg_max 10.0: insulin eased 20 % (40 -> 32 U), oral 0.33 (1500 -> 1005)
    insulin = advise_insulin(fpg, pg2h, 40.0, 80.0, RULES, fpg_reference=ref)
    assert (int(insulin.action), int(insulin.reason)) == (
        Action.DECREASE,
        Reason.IMPROVED_DEESCALATE,
    )
    assert float(insulin.new_dose) == pytest.approx(32.0)
    oral = advise_oral(fpg, pg2h, 2, False, RULES, daily_dose=1500.0, fpg_reference=ref)
    assert float(oral.new_dose) == pytest.approx(1005.0)
    # without the ceiling (the default), the same readings are answered with an increase
    strict = RULES.model_copy(
        update={
            "deescalate_when_stable": RULES.deescalate_when_stable.model_copy(
                update={"fall_cut_fpg_max": None}
            )
        }
    )
    if fpg > 7.0 or pg2h > 10.0:
        advice = advise_insulin(fpg, pg2h, 40.0, 80.0, strict, fpg_reference=ref)
        assert int(advice.action) == Action.INCREASE
