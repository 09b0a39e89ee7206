"""Body mass index."""

from __future__ import annotations

import numpy as np

from celltrial.clinical.units import FloatOrArray, as_float_or_array


def bmi(weight_kg: FloatOrArray, height_cm: FloatOrArray) -> FloatOrArray:
    """BMI = weight [kg] / height [m]^2 (WHO, Technical Report Series 894, 2000).

    NaN where height is zero, negative or missing."""
    h_m = np.asarray(height_cm, dtype=float) / 100.0
    h_m = np.where(h_m > 0, h_m, np.nan)
    return as_float_or_array(np.asarray(weight_kg, dtype=float) / h_m**2)
