"""Kidney function: eGFR by the race-free CKD-EPI 2021 creatinine equation and the KDIGO
2012 GFR category."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from celltrial.clinical.units import FloatOrArray, as_float_or_array, convert

# KDIGO 2012 CKD guideline, Kidney Int Suppl 2013;3:1, table 5: lower bounds of G5..G1.
CKD_STAGE_BREAKS: tuple[float, ...] = (15.0, 30.0, 45.0, 60.0, 90.0)
CKD_STAGES: tuple[str, ...] = ("G5", "G4", "G3b", "G3a", "G2", "G1")

# Inker LA et al., N Engl J Med 2021;385:1737, table S10 (CKD-EPI 2021 creatinine, no race).
_KAPPA = {"F": 0.7, "M": 0.9}
_ALPHA = {"F": -0.241, "M": -0.302}
_FEMALE_FACTOR = 1.012
_ABOVE_KAPPA_EXPONENT = -1.200
_AGE_BASE = 0.9938
_INTERCEPT = 142.0
# Inker 2021 derived and validated the equation in adults only.
MIN_AGE_YEARS = 18.0


class InvalidSexError(ValueError):
    def __init__(self, values: list[str]) -> None:
        super().__init__(f"sex must be 'M' or 'F'; got {', '.join(map(repr, values))}")


def _female_mask(sex: str | npt.ArrayLike) -> np.ndarray:
    s = np.char.upper(np.asarray(sex, dtype=str))
    bad = ~np.isin(s, ("M", "F"))
    if bad.any():
        raise InvalidSexError(sorted(set(np.atleast_1d(s[bad]).tolist()))[:5])
    return s == "F"


def egfr_ckd_epi_2021(
    creatinine_umol_l: FloatOrArray, age_years: FloatOrArray, sex: str | npt.ArrayLike
) -> FloatOrArray:
    """eGFR [mL/min/1.73 m2] = 142 x min(Scr/k, 1)^a x max(Scr/k, 1)^-1.200 x 0.9938^age
    x 1.012 [if female], Scr in mg/dL (Inker 2021). sex: 'M'/'F' or an array of them.

    NaN where creatinine <= 0 or age < 18 (outside the equation's domain)."""
    scr = np.asarray(convert(creatinine_umol_l, "creatinine", "umol/L", "mg/dL"))
    age = np.asarray(age_years, dtype=float)
    female = _female_mask(sex)
    kappa = np.where(female, _KAPPA["F"], _KAPPA["M"])
    alpha = np.where(female, _ALPHA["F"], _ALPHA["M"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(scr > 0, scr / kappa, np.nan)
        gfr = (
            _INTERCEPT
            * np.minimum(ratio, 1.0) ** alpha
            * np.maximum(ratio, 1.0) ** _ABOVE_KAPPA_EXPONENT
            * _AGE_BASE**age
            * np.where(female, _FEMALE_FACTOR, 1.0)
        )
    return as_float_or_array(np.where(age >= MIN_AGE_YEARS, gfr, np.nan))


def ckd_stage(egfr: FloatOrArray) -> str | np.ndarray | None:
    """KDIGO 2012 GFR category G1..G5 (G3a 45-59, G3b 30-44) of an eGFR in mL/min/1.73 m2.

    A string (None for NaN) for a scalar; an object array of them for an array."""
    x = np.asarray(egfr, dtype=float)
    labels = np.array([*CKD_STAGES, None], dtype=object)
    # np.digitize: index i where breaks[i-1] <= x < breaks[i]; NaN goes to the last slot.
    idx = np.where(np.isnan(x), len(CKD_STAGES), np.digitize(np.nan_to_num(x), CKD_STAGE_BREAKS))
    return labels[int(idx)] if np.ndim(idx) == 0 else labels[idx]
