"""Calibration of a preset's free parameters to its published trial by the predictive check.

The objective is celltrial.simulate.predictive.check_loss: every published number's distance
from the median simulated trial in units of the half-width of its 95 % range, plus a penalty
for each published test outcome shown by too few simulated trials. Every evaluation reuses one
seed (common random numbers, research note §5.5), so Nelder-Mead sees a steadier objective.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from scipy.optimize import minimize

from celltrial.simulate.physiology import Array
from celltrial.simulate.predictive import check_loss, predictive_check
from celltrial.simulate.preset import Preset, get_parameter, load_targets, with_parameters


def calibrate(
    preset: Preset,
    n_trials: int,
    seed: int,
    max_evaluations: int = 60,
    on_evaluation: Callable[[int, float], None] | None = None,
) -> tuple[Preset, pl.DataFrame]:
    """Fit the preset's free parameters by Nelder-Mead on the predictive-check loss with
    common random numbers; returns the fitted preset and its predictive check."""
    targets = load_targets(preset.id)
    names = preset.free_parameters
    x0 = np.array([get_parameter(preset, n) for n in names])
    count = [0]

    def objective(x: Array) -> float:
        try:
            candidate = with_parameters(preset, dict(zip(names, x, strict=True)))
        except ValueError:  # outside the parameter's valid range
            return 1e6
        value = check_loss(predictive_check(candidate, n_trials, seed, targets))
        count[0] += 1
        if on_evaluation is not None:
            on_evaluation(count[0], value)
        return value

    if names and max_evaluations > 0:
        res = minimize(
            objective,
            x0,
            method="Nelder-Mead",
            options={"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-3},
        )
        x0 = res.x
    fitted = with_parameters(preset, dict(zip(names, x0, strict=True)))
    return fitted, predictive_check(fitted, n_trials, seed, targets)
