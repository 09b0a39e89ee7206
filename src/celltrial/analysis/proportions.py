"""Proportions with Wilson score 95 % confidence intervals, vectorized over arrays."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

CONF_LEVEL = 0.95
METHOD_WILSON = "Wilson score interval"


def wilson_ci(count: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (Wilson EB. JASA 1927;22:209; Newcombe RG. Stat Med 1998;17:857).

    centre = (p + z^2/2n) / (1 + z^2/n); half = z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n).
    n = 0 gives NaN limits.
    """
    count = np.asarray(count, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + CONF_LEVEL / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = count / n
        denom = 1.0 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    ok = n > 0
    return np.where(ok, centre - half, np.nan), np.where(ok, centre + half, np.nan)


def with_wilson(frame: pl.DataFrame, count: str = "count", n: str = "n") -> pl.DataFrame:
    """Add percent, ci_low and ci_high (as proportions 0..1) to a frame of counts."""
    lo, hi = wilson_ci(frame[count].to_numpy(), frame[n].to_numpy())
    c = frame[count].cast(pl.Float64)
    total = frame[n].cast(pl.Float64)
    return frame.with_columns(
        pl.Series("percent", np.where(total > 0, 100 * c / total, np.nan)),
        pl.Series("ci_low", lo),
        pl.Series("ci_high", hi),
    )
