import numpy as np
import pytest

from celltrial.clinical import bmi, dose_cells_per_kg, insulin_u_per_kg


def test_bmi_by_hand():
    # 70 / 1.75^2 = 70 / 3.0625 = 22.857
    assert bmi(70.0, 175.0) == pytest.approx(22.857, abs=1e-3)
    np.testing.assert_allclose(bmi(np.array([70.0, 90.0]), 150.0), [31.111, 40.0], atol=1e-3)


def test_per_kg():
    # Lian 2022: 1e6 cells/kg for a 60 kg patient = 6e7 cells
    assert dose_cells_per_kg(6e7, 60.0) == pytest.approx(1e6)
    # 16 U/day at 80 kg = 0.2 U/kg/day, the withdrawal threshold of Lian 2022
    assert insulin_u_per_kg(16.0, 80.0) == pytest.approx(0.2)


def test_zero_or_missing_weight_is_nan_not_inf():
    assert np.isnan(dose_cells_per_kg(6e7, 0.0))
    assert np.isnan(bmi(70.0, 0.0))
    assert np.isnan(insulin_u_per_kg(np.array([10.0]), np.array([np.nan])))[0]
