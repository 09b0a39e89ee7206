"""Primary analyses of many simulated trials at once: batched ANCOVA by the normal equations and
the pooled two-proportion z-test, vectorized over trials (never a model fit per trial).

Every function takes arrays shaped (trials, patients) with a boolean mask of the patients that
enter the analysis, and returns one value per trial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from celltrial.simulate.physiology import Array


@dataclass(frozen=True)
class ArmEffect:
    """Per-trial estimate of the arm effect, its standard error, statistic and two-sided p."""

    estimate: Array
    se: Array
    statistic: Array
    p_value: Array
    df: Array | None = None  # residual degrees of freedom (ANCOVA)


def ancova(y: Array, arm: Array, covariate: Array, mask: Array) -> ArmEffect:
    """OLS of y on [1, arm, covariate] in each trial over the masked patients.

    Normal equations b = (X'X)^-1 X'y stacked over trials (3x3 systems, np.linalg.solve);
    residual variance s^2 = RSS / (n - 3); SE of the arm coefficient sqrt(s^2 [(X'X)^-1]_11);
    t = b/SE with n - 3 df, two-sided p = 2.P(T > |t|) (ordinary least squares, as
    statsmodels OLS). A trial with fewer than 4 patients or a singular design gets NaN."""
    w = mask.astype(float)
    yv = np.where(mask, y, 0.0)
    cols = np.stack([w, np.where(mask, arm, 0.0), np.where(mask, covariate, 0.0)], axis=-1)
    xtx = np.einsum("tni,tnj->tij", cols, cols)  # the 0-rows of unmasked patients add nothing
    xty = np.einsum("tni,tn->ti", cols, yv)
    n = w.sum(axis=1)
    ok = (n > 3) & (np.abs(np.linalg.det(xtx)) > 1e-12)
    xtx_safe = np.where(ok[:, None, None], xtx, np.eye(3))
    inv = np.linalg.inv(xtx_safe)
    beta = np.einsum("tij,tj->ti", inv, xty)
    resid = (yv - np.einsum("tni,ti->tn", cols, beta)) * w
    df = n - 3.0
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = (resid**2).sum(axis=1) / df
        se = np.sqrt(s2 * inv[:, 1, 1])
        t = beta[:, 1] / se
    p = 2.0 * stats.t.sf(np.abs(t), np.maximum(df, 1.0))
    nan = np.where(ok, 1.0, np.nan)
    return ArmEffect(beta[:, 1] * nan, se * nan, t * nan, p * nan, df)


def two_proportions(success: Array, arm: Array, mask: Array) -> ArmEffect:
    """Pooled two-proportion z-test of arm (True) against the other arm, per trial:
    z = (p1 - p0) / sqrt(p(1 - p)(1/n1 + 1/n0)), p the pooled share, two-sided normal p
    (statsmodels proportions_ztest with its default pooled variance). No variance (both arms
    all or none) gives NaN: the test cannot reject."""
    a = mask & arm
    b = mask & ~arm
    n1, n0 = a.sum(axis=1), b.sum(axis=1)
    x1, x0 = (success & a).sum(axis=1), (success & b).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p0 = x1 / n1, x0 / n0
        pooled = (x1 + x0) / (n1 + n0)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0))
        z = (p1 - p0) / se
        z = np.where(se > 0, z, np.nan)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return ArmEffect(p1 - p0, se, z, p)


def rejects(effect: ArmEffect, alpha: float) -> Array:
    """(T,) bool: the trial's two-sided test rejects at alpha (NaN never rejects)."""
    return np.nan_to_num(effect.p_value, nan=1.0) < alpha
