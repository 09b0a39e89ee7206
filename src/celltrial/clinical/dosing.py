"""Doses per body weight: cell dose per kg and insulin units per kg per day."""

from __future__ import annotations

import numpy as np

from celltrial.clinical.units import FloatOrArray, as_float_or_array


def _per_kg(amount: FloatOrArray, weight_kg: FloatOrArray) -> FloatOrArray:
    # A weight that is zero, negative or missing gives NaN, never infinity.
    w = np.asarray(weight_kg, dtype=float)
    safe = np.where(w > 0, w, np.nan)
    return as_float_or_array(np.asarray(amount, dtype=float) / safe)


def dose_cells_per_kg(dose_cells: FloatOrArray, weight_kg: FloatOrArray) -> FloatOrArray:
    """Cells per kg body weight (Lian 2022 dosed 1e6 cells/kg)."""
    return _per_kg(dose_cells, weight_kg)


def insulin_u_per_kg(daily_dose_u: FloatOrArray, weight_kg: FloatOrArray) -> FloatOrArray:
    """Total daily insulin in U/kg/day (Lian 2022 withdrew insulin at <= 0.2 U/kg/day)."""
    return _per_kg(daily_dose_u, weight_kg)
