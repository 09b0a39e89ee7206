"""The one dose-change rule (Lian 2022 L196-199): boundaries, float noise, the paper's cases."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from celltrial.clinical.dose_change import (
    DISCONTINUED,
    INCREASED,
    NO_AGENT_AT_BASELINE,
    REDUCED,
    REDUCED_HALF,
    UNCHANGED,
    classify_dose_change,
    classify_ratio,
)
from celltrial.clinical.drugs import fraction_of_ddd


def test_boundaries_exactly() -> None:
    # ratio current/baseline: 0 stopped; 0.5 is "a decrement of 50%" (the paper's d28 split
    # 12 + 4 = 16 puts exactly half in the upper category); 0.9 is a 10 % decrement; 1.1 a
    # 10 % increase.
    got = classify_ratio([0.0, 0.25, 0.5, 0.6, 0.9, 0.95, 1.0, 1.05, 1.1, 2.0])
    assert got.tolist() == [
        DISCONTINUED,
        REDUCED_HALF,
        REDUCED_HALF,
        REDUCED,
        REDUCED,
        UNCHANGED,
        UNCHANGED,
        UNCHANGED,
        INCREASED,
        INCREASED,
    ]


def test_just_past_each_boundary() -> None:
    # a millionth beyond each bound is far outside the 1e-9 float tolerance
    eps = 1e-6
    got = classify_ratio([0.5 + eps, 0.9 + eps, 1.1 - eps])
    assert got.tolist() == [REDUCED, UNCHANGED, UNCHANGED]


def test_halving_with_float_noise_is_still_half() -> None:
    # Three agents of 0.3, 0.2 and 0.1 DDD (0.3 = 0.2 + 0.1); the 0.3 one is stopped: exactly
    # half in real numbers, but the float sums give 0.30000000000000004 / 0.6 > 0.5.
    baseline = (0.2 + 0.1) + 0.2 + 0.1
    current = 0.2 + 0.1
    assert current / baseline > 0.5  # the noise the tolerance exists for
    assert classify_dose_change(baseline, current).tolist() == [REDUCED_HALF]


def test_halved_real_doses_are_half() -> None:
    # metformin 2000 -> 1000 mg (WHO DDD 2 g) and insulin glargine 40 -> 20 U (DDD 40 U):
    # 2.0 -> 1.0 DDD, a decrement of exactly 50 %.
    drugs, units = ["metformin", "insulin glargine"], ["mg", "U"]
    before = fraction_of_ddd(drugs, [2000.0, 40.0], units).sum()
    after = fraction_of_ddd(drugs, [1000.0, 20.0], units).sum()
    assert (before, after) == (2.0, 1.0)
    assert classify_dose_change(before, after).tolist() == [REDUCED_HALF]


def test_no_baseline_and_missing_current() -> None:
    got = classify_dose_change([0.0, np.nan, 1.0], [1.0, 1.0, 0.0])
    assert got.tolist() == [NO_AGENT_AT_BASELINE, NO_AGENT_AT_BASELINE, DISCONTINUED]
    with pytest.raises(ValueError, match="current dose is missing"):
        classify_dose_change([1.0], [np.nan])


_BOUNDS = (Fraction(0), Fraction(1, 2), Fraction(9, 10), Fraction(11, 10))


def _reference(r: Fraction) -> str:
    """The rule in exact rational arithmetic, straight from the paper's wording."""
    if r <= 0:
        return DISCONTINUED
    if r <= Fraction(1, 2):
        return REDUCED_HALF
    if r <= Fraction(9, 10):
        return REDUCED
    if r < Fraction(11, 10):
        return UNCHANGED
    return INCREASED


@given(
    baseline=st.floats(1e-3, 1e3, allow_nan=False),
    current=st.one_of(st.just(0.0), st.floats(1e-6, 1e4, allow_nan=False)),
)
def test_matches_exact_arithmetic_away_from_the_tolerance_band(baseline, current) -> None:
    exact = Fraction(current) / Fraction(baseline)
    assume(all(exact == b or abs(exact - b) > Fraction(1, 10**7) for b in _BOUNDS))
    assert classify_dose_change(baseline, current).tolist() == [_reference(exact)]
