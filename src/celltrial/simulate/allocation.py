"""Which simulated patient gets which arm: a fixed interleaving of the allocation ratio.

Simulated patients are independent and identically distributed in screening order, so a
deterministic pattern is as good as a random allocation for the simulation, and it keeps every
prefix of a trial balanced: the first n patients of a 200-patient trial are a trial of n with
the same ratio (common random numbers across a sample-size grid, research note §5.4).
"""

from __future__ import annotations

import numpy as np

from celltrial.simulate.physiology import Array


def msc_pattern(n_patients: int, msc_share: float) -> Array:
    """(n_patients,) bool, True = UC-MSC: patient i is on UC-MSC when floor((i+1).p) exceeds
    floor(i.p), p = msc_share (Bresenham's line: every prefix of length k holds floor(k.p)
    UC-MSC patients, the closest whole number below the ratio)."""
    if not 0.0 <= msc_share <= 1.0:
        raise ValueError(f"msc_share {msc_share} is not a fraction between 0 and 1")
    i = np.arange(n_patients, dtype=float)
    # a tiny epsilon keeps exact ratios (1/2, 2/3) exact in floating point
    return np.floor((i + 1) * msc_share + 1e-9) > np.floor(i * msc_share + 1e-9)
