import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.clinical import homa1_b, homa1_ir, homa_cp_b, homa_cp_ir


def test_matthews_normal_subject_is_ir_1_and_b_100():
    # Matthews 1985 calibrates the model so that glucose 4.5 mmol/L with insulin 5 uU/mL gives
    # IR = 4.5 x 5 / 22.5 = 1.0 and %B = 20 x 5 / (4.5 - 3.5) = 100 %.
    # 5 uU/mL = 30 pmol/L (Heinemann 2010: 1 uU/mL = 6.00 pmol/L).
    assert homa1_ir(4.5, 30.0) == pytest.approx(1.0)
    assert homa1_b(4.5, 30.0) == pytest.approx(100.0)


def test_homa1_diabetic_example_by_hand():
    # glucose 9.0 mmol/L, insulin 72 pmol/L = 12 uU/mL:
    # IR = 9 x 12 / 22.5 = 4.8 ; %B = 20 x 12 / 5.5 = 43.636...
    assert homa1_ir(9.0, 72.0) == pytest.approx(4.8)
    assert homa1_b(9.0, 72.0) == pytest.approx(43.6363636)


def test_homa_cp_by_hand():
    # Lian 2022: IR(CP) = 1.5 + 500 x 8.1 / 2800 = 1.5 + 1.4464286 = 2.9464286
    #            B(CP)  = 0.27 x 500 / (8.1 - 3.5) = 135 / 4.6 = 29.347826 %
    assert homa_cp_ir(500.0, 8.1) == pytest.approx(2.9464286)
    assert homa_cp_b(500.0, 8.1) == pytest.approx(29.347826)


def test_scalar_in_scalar_out():
    assert isinstance(homa_cp_ir(500.0, 8.1), float)
    assert isinstance(homa1_b(np.float64(9.0), 72), float)


@pytest.mark.parametrize("fpg", [3.5, 3.2, 2.0, 0.0])
def test_beta_index_undefined_at_or_below_3_5_is_nan_never_inf(fpg):
    assert np.isnan(homa_cp_b(500.0, fpg))
    assert np.isnan(homa1_b(fpg, 60.0))


def test_arrays_broadcast():
    # one FCP against three glucose values, and a column against a row (3 x 2 grid)
    fpg = np.array([3.0, 7.5, 13.5])
    out = homa_cp_b(400.0, fpg)
    # 0.27 x 400 / 4 = 27.0 ; 0.27 x 400 / 10 = 10.8
    np.testing.assert_allclose(out, [np.nan, 27.0, 10.8])
    grid = homa_cp_ir(np.array([[280.0], [560.0]]), np.array([10.0, 5.0]))
    # 1.5 + 280 x 10 / 2800 = 2.5 ; 1.5 + 560 x 5 / 2800 = 2.5
    np.testing.assert_allclose(grid, [[2.5, 2.0], [3.5, 2.5]])


@settings(deadline=None)  # shared 2-core machine: timing is noisy
@given(
    fcp=st.floats(0, 5000, allow_nan=False),
    fpg=st.floats(0.5, 40, allow_nan=False),
)
def test_homa_cp_b_never_infinite_and_nan_exactly_when_undefined(fcp, fpg):
    b = homa_cp_b(fcp, fpg)
    assert not np.isinf(b)
    assert np.isnan(b) == (fpg <= 3.5)
