"""HbA1c expressed otherwise: IFCC mmol/mol and the ADAG estimated average glucose."""

from __future__ import annotations

import numpy as np

from celltrial.clinical.units import FloatOrArray, as_float_or_array, convert

# Nathan DM et al. (ADAG), Diabetes Care 2008;31:1473: eAG [mg/dL] = 28.7 x A1c [%] - 46.7.
_ADAG_SLOPE_MG_DL = 28.7
_ADAG_INTERCEPT_MG_DL = -46.7


def eag_mg_dl(hba1c_pct: FloatOrArray) -> FloatOrArray:
    """Estimated average glucose in mg/dL from NGSP HbA1c % (ADAG, Nathan 2008)."""
    a1c = np.asarray(hba1c_pct, dtype=float)
    return as_float_or_array(_ADAG_SLOPE_MG_DL * a1c + _ADAG_INTERCEPT_MG_DL)


def eag_mmol_l(hba1c_pct: FloatOrArray) -> FloatOrArray:
    """Estimated average glucose in mmol/L: the ADAG line converted with the catalogue's
    glucose factor (M = 180.16 g/mol), so 7 % -> 154.2 mg/dL -> 8.56 mmol/L."""
    return convert(eag_mg_dl(hba1c_pct), "fpg", "mg/dL", "mmol/L")


def hba1c_ifcc(hba1c_pct: FloatOrArray) -> FloatOrArray:
    """IFCC HbA1c in mmol/mol from NGSP %, by the catalogue's master equation
    (Hoelzel 2004: NGSP = 0.09148 x IFCC + 2.152)."""
    return convert(hba1c_pct, "hba1c", "%", "mmol/mol")
