"""Homeostasis model assessment (HOMA) indices from fasting glucose and insulin or C-peptide.

All functions take canonical catalogue units (glucose mmol/L, insulin and C-peptide pmol/L),
accept floats or NumPy arrays (broadcast together) and return a float for scalar input.
The beta-cell indices divide by (glucose - 3.5): at or below 3.5 mmol/L they are undefined
and return NaN, never infinity or a negative value.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from celltrial.clinical.units import FloatOrArray, as_float_or_array, convert

# HOMA beta-cell formulas subtract 3.5 mmol/L, the glucose at which the model's insulin
# secretion is zero (Matthews DR et al., Diabetologia 1985;28:412, appendix).
HOMA_GLUCOSE_FLOOR_MMOL_L = 3.5


def _insulin_uu_ml(insulin_pmol_l: npt.ArrayLike) -> np.ndarray:
    # Matthews 1985 uses insulin in uU/mL; convert through the catalogue (Heinemann 2010 factor).
    return np.asarray(convert(np.asarray(insulin_pmol_l, float), "fins", "pmol/L", "uU/mL"))


def _above_floor(glucose_mmol_l: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(glucose - 3.5 with NaN where that is <= 0, glucose) as float arrays."""
    g = np.asarray(glucose_mmol_l, dtype=float)
    excess = g - HOMA_GLUCOSE_FLOOR_MMOL_L
    return np.where(excess > 0, excess, np.nan), g


def homa1_ir(glucose_mmol_l: FloatOrArray, insulin_pmol_l: FloatOrArray) -> FloatOrArray:
    """HOMA1-IR = glucose [mmol/L] x insulin [uU/mL] / 22.5 (Matthews 1985, eq. in appendix)."""
    g = np.asarray(glucose_mmol_l, dtype=float)
    return as_float_or_array(g * _insulin_uu_ml(insulin_pmol_l) / 22.5)


def homa1_b(glucose_mmol_l: FloatOrArray, insulin_pmol_l: FloatOrArray) -> FloatOrArray:
    """HOMA1-%B = 20 x insulin [uU/mL] / (glucose [mmol/L] - 3.5) (Matthews 1985).

    Undefined (NaN) at glucose <= 3.5 mmol/L."""
    excess, _ = _above_floor(glucose_mmol_l)
    return as_float_or_array(20.0 * _insulin_uu_ml(insulin_pmol_l) / excess)


def homa_cp_ir(fcp_pmol_l: FloatOrArray, fpg_mmol_l: FloatOrArray) -> FloatOrArray:
    """HOMA-IR(CP) = 1.5 + FCP [pmol/L] x FPG [mmol/L] / 2800 (Lian 2022 WJD 13:877, Methods;
    Li X et al., Diabetes Res Clin Pract 2004;64:75)."""
    fcp = np.asarray(fcp_pmol_l, dtype=float)
    return as_float_or_array(1.5 + fcp * np.asarray(fpg_mmol_l, dtype=float) / 2800.0)


def homa_cp_b(fcp_pmol_l: FloatOrArray, fpg_mmol_l: FloatOrArray) -> FloatOrArray:
    """HOMA-B(CP) [%] = 0.27 x FCP [pmol/L] / (FPG [mmol/L] - 3.5) (Lian 2022, Methods).

    Undefined (NaN) at FPG <= 3.5 mmol/L."""
    excess, _ = _above_floor(fpg_mmol_l)
    return as_float_or_array(0.27 * np.asarray(fcp_pmol_l, dtype=float) / excess)
