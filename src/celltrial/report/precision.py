"""How many decimals a table prints for each analyte: the reporting precision defined once in
celltrial.clinical.precision (the rank tests round to the same precision)."""

from __future__ import annotations

from celltrial.clinical.precision import (
    COVARIATE_DECIMALS,
    DEFAULT_DECIMALS,
    MAX_DECIMALS,
    SIGNIFICANT,
    decimals,
)

__all__ = ["COVARIATE_DECIMALS", "DEFAULT_DECIMALS", "MAX_DECIMALS", "SIGNIFICANT", "decimals"]
PERCENT_DECIMALS = 1  # percentages and percent change
P_DECIMALS = 3  # P-values: three decimals, "<0.001" below (journal convention)
