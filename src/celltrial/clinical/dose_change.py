"""Change of the hypoglycaemic-agent dose from baseline, in the categories of Lian 2022.

The one rule for the dose-reduction endpoint, used by the analysis of a study
(celltrial.analysis.medication) and by the simulator's calibration summary
(celltrial.simulate.calibrate) alike. Doses are whatever one number per participant and visit
stands for the whole regimen; CellTrial uses the sum over agents of daily dose / WHO DDD
(celltrial.clinical.drugs.fraction_of_ddd).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DISCONTINUED = "discontinued"
REDUCED_HALF = "reduced >= 50 %"
REDUCED = "reduced 10 to < 50 %"
UNCHANGED = "unchanged (change < 10 %)"
INCREASED = "increased >= 10 %"
NO_AGENT_AT_BASELINE = "no agent at baseline"
DOSE_CATEGORIES = (DISCONTINUED, REDUCED_HALF, REDUCED, UNCHANGED, INCREASED, NO_AGENT_AT_BASELINE)
# "reduced" as Lian 2022 counts it (L196-199: "reduced in all patients, of whom ..."): by at
# least 10 %, and by at least half; discontinued is a reduction of 100 %.
REDUCED_BY_10_OR_MORE = (DISCONTINUED, REDUCED_HALF, REDUCED)
REDUCED_BY_HALF_OR_MORE = (DISCONTINUED, REDUCED_HALF)

# Lian 2022 L196-199: on day 28 "12 (75%) had a decrement of 10%-50% and 4 (25%) had a
# decrement of 50%" (12 + 4 = all 16 patients), on day 84 "a decrement of more than 50%": the
# categories split every reduction of at least 10 % at one half, and exactly half belongs to
# the upper one (a halved tablet dose, the commonest step, is "a decrement of 50%").
HALF = 0.5
# The paper's smallest category starts at a 10 % decrement (L197); an increase is read the
# same way, so a change of less than 10 % either way is "unchanged".
TENTH = 0.10
# Relative tolerance of the comparisons: a sum of DDD fractions carries rounding error of
# about 1e-16, so a dose halved in milligrams (2000 -> 1000 mg metformin plus 40 -> 20 U
# insulin) must not land at 0.50000000000000011 and miss the boundary.
REL_TOL = 1e-9


def classify_ratio(ratio: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Category of each dose given as a fraction of its baseline dose (current / baseline),
    as an array of at least one dimension.

    ratio <= 0: discontinued; <= 0.5: reduced >= 50 %; <= 0.9: reduced 10 to < 50 %;
    < 1.1: unchanged; else increased >= 10 % (each bound within REL_TOL). NaN: no agent at
    baseline (the ratio of a zero baseline)."""
    r = np.atleast_1d(np.asarray(ratio, dtype=float))
    up, down = 1.0 + REL_TOL, 1.0 - REL_TOL
    conditions = [
        np.isnan(r),
        r <= 0.0,
        r <= HALF * up,
        r <= (1.0 - TENTH) * up,
        r < (1.0 + TENTH) * down,
    ]
    choices = [NO_AGENT_AT_BASELINE, DISCONTINUED, REDUCED_HALF, REDUCED, UNCHANGED]
    return np.select(conditions, choices, default=INCREASED)


def classify_dose_change(baseline: npt.ArrayLike, current: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Category of each change from a baseline dose to a current dose (same units, e.g. sums
    of DDD fractions); a baseline of zero or less, or missing, is "no agent at baseline".
    A missing current dose after a real baseline has no category: ValueError."""
    b = np.atleast_1d(np.asarray(baseline, dtype=float))
    c = np.atleast_1d(np.asarray(current, dtype=float))
    valid = b > 0  # NaN compares False
    if np.any(valid & np.isnan(c)):
        raise ValueError("a current dose is missing (NaN) where the baseline dose is known")
    ratio = np.divide(c, b, out=np.full(np.broadcast(b, c).shape, np.nan), where=valid)
    return classify_ratio(ratio)
