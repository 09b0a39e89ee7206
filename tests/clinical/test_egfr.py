import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from celltrial.clinical import InvalidSexError, ckd_stage, egfr_ckd_epi_2021
from celltrial.clinical.units import convert


def test_woman_above_kappa_by_hand():
    # Scr 1.0 mg/dL = 88.4 umol/L, woman, 50 y (Inker 2021):
    # 1.0/0.7 = 1.428571 > 1 -> min term 1 ; 1.428571^-1.2 = exp(-1.2 x 0.356675) = 0.651785
    # 0.9938^50 = exp(50 x ln 0.9938) = exp(-0.310965) = 0.732752
    # 142 x 0.651785 x 0.732752 x 1.012 = 68.633 (NKF calculator reports 69 rounded)
    assert egfr_ckd_epi_2021(88.4, 50, "F") == pytest.approx(68.633, abs=0.01)


def test_man_below_kappa_by_hand():
    # Scr 0.8 mg/dL = 70.72 umol/L, man, 40 y: 0.8/0.9 = 0.888889 < 1
    # 0.888889^-0.302 = exp(0.302 x 0.117783) = 1.036210 ; max term 1
    # 0.9938^40 = exp(-0.248772) = 0.779776 ; 142 x 1.036210 x 0.779776 = 114.735
    assert egfr_ckd_epi_2021(70.72, 40, "M") == pytest.approx(114.735, abs=0.01)


def test_woman_below_kappa_and_man_above_kappa_by_hand():
    # woman Scr 0.6 mg/dL, 30 y: (0.6/0.7)^-0.241 = exp(0.241 x 0.154151) = 1.037845
    # 0.9938^30 = exp(-0.186579) = 0.829789 ; 142 x 1.037845 x 0.829789 x 1.012 = 123.758
    assert egfr_ckd_epi_2021(0.6 * 88.4, 30, "F") == pytest.approx(123.758, abs=0.01)
    # man Scr 1.5 mg/dL, 70 y: (1.5/0.9)^-1.2 = exp(-1.2 x 0.510826) = 0.541728
    # 0.9938^70 = exp(70 x -0.0062193) = exp(-0.435351) = 0.647038
    # 142 x 0.541728 x 0.647038 = 49.7736
    assert egfr_ckd_epi_2021(1.5 * 88.4, 70, "M") == pytest.approx(49.7736, abs=0.001)


@pytest.mark.parametrize(
    ("scr_mg_dl", "age", "sex", "by_hand"),
    [
        # CKD-EPI 2021 (Inker 2021): 142 x min(r,1)^a x max(r,1)^-1.2 x 0.9938^age [x 1.012 F],
        # r = Scr/kappa, kappa 0.7 F / 0.9 M, a -0.241 F / -0.302 M; ln 0.9938 = -0.0062193.
        # woman 2.0 mg/dL, 65 y (above kappa): r = 2.857143, ln r = 1.049822,
        # r^-1.2 = exp(-1.259787) = 0.283715 ; 0.9938^65 = exp(-0.404254) = 0.667474
        # 142 x 0.283715 x 0.667474 x 1.012 = 27.2136
        (2.0, 65, "F", 27.2136),
        # woman 0.5 mg/dL, 25 y (below kappa): r = 0.714286, ln r = -0.336472,
        # r^-0.241 = exp(0.081090) = 1.084468 ; 0.9938^25 = exp(-0.155482) = 0.856002
        # 142 x 1.084468 x 0.856002 x 1.012 = 133.4014
        (0.5, 25, "F", 133.4014),
        # man 0.7 mg/dL, 55 y (below kappa): r = 0.777778, ln r = -0.251314,
        # r^-0.302 = exp(0.075897) = 1.078851 ; 0.9938^55 = exp(-0.342061) = 0.710305
        # 142 x 1.078851 x 0.710305 = 108.8165
        (0.7, 55, "M", 108.8165),
        # man 1.2 mg/dL, 45 y (above kappa): r = 1.333333, ln r = 0.287682,
        # r^-1.2 = exp(-0.345218) = 0.708066 ; 0.9938^45 = exp(-0.279868) = 0.755883
        # 142 x 0.708066 x 0.755883 = 76.0005
        (1.2, 45, "M", 76.0005),
    ],
)
def test_published_equation_worked_by_hand(scr_mg_dl, age, sex, by_hand):
    # creatinine 88.4 umol/L per mg/dL (KDIGO), the catalogue's factor
    assert egfr_ckd_epi_2021(scr_mg_dl * 88.4, age, sex) == pytest.approx(by_hand, abs=0.001)


def test_at_kappa_both_branches_agree():
    # at Scr = kappa both power terms are 1: 142 x 0.9938^age (x 1.012 for women)
    assert egfr_ckd_epi_2021(0.9 * 88.4, 60, "M") == pytest.approx(142 * 0.9938**60)
    assert egfr_ckd_epi_2021(0.7 * 88.4, 60, "F") == pytest.approx(142 * 0.9938**60 * 1.012)


def test_arrays_and_sex_arrays():
    out = egfr_ckd_epi_2021(np.array([88.4, 70.72]), np.array([50, 40]), np.array(["F", "M"]))
    np.testing.assert_allclose(out, [68.633, 114.735], atol=0.01)


def test_outside_domain_is_nan():
    assert np.isnan(egfr_ckd_epi_2021(80.0, 17, "F"))
    assert np.isnan(egfr_ckd_epi_2021(0.0, 40, "M"))


def test_bad_sex_is_a_clear_error():
    with pytest.raises(InvalidSexError, match="'X'"):
        egfr_ckd_epi_2021(80.0, 40, "X")


@settings(deadline=None)  # shared 2-core machine: timing is noisy
@given(
    scr=st.floats(20, 1500),
    d_scr=st.floats(0.1, 500),
    age=st.floats(18, 95),
    sex=st.sampled_from(["M", "F"]),
)
def test_egfr_decreases_with_creatinine(scr, d_scr, age, sex):
    assert egfr_ckd_epi_2021(scr + d_scr, age, sex) < egfr_ckd_epi_2021(scr, age, sex)


@settings(deadline=None)  # shared 2-core machine: timing is noisy
@given(scr=st.floats(20, 1500), age=st.floats(18, 90), d_age=st.floats(0.5, 10))
def test_egfr_decreases_with_age(scr, age, d_age):
    assume(age + d_age <= 100)
    for sex in ("M", "F"):
        assert egfr_ckd_epi_2021(scr, age + d_age, sex) < egfr_ckd_epi_2021(scr, age, sex)


@pytest.mark.parametrize(
    ("egfr", "stage"),
    # KDIGO 2012: G1 >= 90, G2 60-89, G3a 45-59, G3b 30-44, G4 15-29, G5 < 15
    [
        (120, "G1"),
        (90, "G1"),
        (89.9, "G2"),
        (60, "G2"),
        (59.9, "G3a"),
        (45, "G3a"),
        (44.9, "G3b"),
        (30, "G3b"),
        (29.9, "G4"),
        (15, "G4"),
        (14.9, "G5"),
        (3, "G5"),
    ],
)
def test_ckd_stage_bounds(egfr, stage):
    assert ckd_stage(egfr) == stage


def test_ckd_stage_array_and_nan():
    assert ckd_stage(np.array([95.0, 50.0, np.nan])).tolist() == ["G1", "G3a", None]
    assert ckd_stage(float("nan")) is None


def test_creatinine_factor_is_kdigo_88_4():
    # KDIGO 2012 (Kidney Int Suppl 2013;3:1): 1 mg/dL = 88.4 umol/L; 1.5 mg/dL = 132.6 umol/L
    assert convert(1.5, "creatinine", "mg/dL", "umol/L") == pytest.approx(132.6, abs=1e-9)
    assert convert(132.6, "creatinine", "umol/L", "mg/dL") == pytest.approx(1.5, abs=1e-12)


def test_egfr_from_umol_l_uses_88_4_by_hand():
    # 100 umol/L / 88.4 = 1.131222 mg/dL; man 60 y: r = 1.131222 / 0.9 = 1.256913,
    # ln r = 0.228659, r^-1.2 = exp(-0.274390) = 0.760035 ; 0.9938^60 = 0.688556
    # 142 x 0.760035 x 0.688556 = 74.3125 (with 88.42 it would be 74.3326)
    assert egfr_ckd_epi_2021(100.0, 60, "M") == pytest.approx(74.3125, abs=1e-3)
