"""The reporting precision of each variable: how many decimals its values carry in tables and
in the rank tests (differences closer than that are ties; one definition for both).

Three significant digits at the analyte's typical magnitude, taken as the geometric midpoint of
the catalogue's plausible range (fasting glucose ~8.7 mmol/L: 2 decimals; C-peptide ~220
pmol/L: none). More digits only add noise (Cole TJ. Too many digits: the presentation of
numerical data. Arch Dis Child 2015;100:608-9).
"""

from __future__ import annotations

import math

from celltrial.clinical.analytes import ANALYTES

SIGNIFICANT = 3  # significant digits at the typical magnitude (Cole 2015, above)
MAX_DECIMALS = 3
DEFAULT_DECIMALS = 2  # a variable the catalogue does not know
# Covariates of Table 1: one decimal, as recorded (age and duration in years, height in cm).
COVARIATE_DECIMALS = {"age": 1, "diabetes_duration_years": 1, "height_cm": 1}


def decimals(analyte: str) -> int:
    """Decimals for the values, means, SD, medians, quartiles and changes of `analyte`."""
    if analyte in COVARIATE_DECIMALS:
        return COVARIATE_DECIMALS[analyte]
    a = ANALYTES.get(analyte)
    if a is None:
        return DEFAULT_DECIMALS
    low, high = a.plausible
    if not (0 < low < high < math.inf):
        return DEFAULT_DECIMALS
    magnitude = math.floor(math.log10(math.sqrt(low * high)))
    return min(max(SIGNIFICANT - 1 - magnitude, 0), MAX_DECIMALS)
