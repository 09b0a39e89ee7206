"""Hypoglycaemia level by the ADA classification."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from celltrial.clinical.units import FloatOrArray, as_float_or_array

# ADA Standards of Care in Diabetes-2024, section 6, table 6.4 (International Hypoglycaemia
# Study Group 2017): level 1 < 3.9 and >= 3.0 mmol/L; level 2 < 3.0 mmol/L; level 3 a severe
# event with altered mental or physical status needing assistance, whatever the glucose.
LEVEL1_BELOW_MMOL_L = 3.9
LEVEL2_BELOW_MMOL_L = 3.0


def hypoglycemia_level(
    glucose_mmol_l: FloatOrArray, severe: bool | npt.ArrayLike | None = None
) -> FloatOrArray:
    """0 (none), 1, 2 or 3 as float; NaN when glucose is missing and the event is not severe.

    severe: True where the event needed another person's assistance (level 3, clinical)."""
    g = np.asarray(glucose_mmol_l, dtype=float)
    sev = np.zeros(np.shape(g), dtype=bool) if severe is None else np.asarray(severe, bool)
    level = np.select(
        [sev, np.isnan(g), g < LEVEL2_BELOW_MMOL_L, g < LEVEL1_BELOW_MMOL_L],
        [3.0, np.nan, 2.0, 1.0],
        default=0.0,
    )
    return as_float_or_array(level)
