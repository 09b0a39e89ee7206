"""Primary analyses of many simulated trials at once: batched ANCOVA by the normal equations and
the pooled two-proportion z-test, vectorized over trials (never a model fit per trial).

Every function takes arrays shaped (trials, patients) with a boolean mask of the patients that
enter the analysis, and returns one value per trial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import expit

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


# Newton-Raphson iterations and convergence tolerance of the batched logistic fit: the
# log-likelihood is concave, so Newton converges quadratically from beta = 0 (McCullagh &
# Nelder 1989, section 4.4); a trial not converged by then is (quasi-)separated.
NEWTON_STEPS = 30
NEWTON_TOL = 1e-10
# |coefficient| beyond this on the logit scale means separation (an odds ratio of e^15 ~ 3e6).
SEPARATED = 15.0


def logistic(success: Array, arm: Array, covariate: Array, mask: Array) -> ArmEffect:
    """Logistic regression of success on [1, arm, covariate] in each trial, by Newton-Raphson
    on stacked 3x3 systems (IRLS: H = X'WX, W = p(1-p), step H^-1 X'(y - p)); Wald test of the
    arm coefficient, z = b/SE with SE = sqrt([H^-1]_11), two-sided normal p (as statsmodels
    Logit). A trial with (quasi-)complete separation or a singular design gets NaN: the
    maximum-likelihood estimate does not exist and the test cannot reject."""
    w = mask.astype(float)
    y = np.where(mask, success, 0).astype(float)
    x = np.stack([w, np.where(mask, arm, 0.0), np.where(mask, covariate, 0.0)], axis=-1)
    # centre the covariate per trial: the same fit, better-conditioned Newton steps
    n = np.maximum(w.sum(axis=1), 1.0)
    centre = x[..., 2].sum(axis=1) / n
    x[..., 2] = np.where(mask, x[..., 2] - centre[:, None], 0.0)
    beta = np.zeros((y.shape[0], 3))
    ok = np.ones(y.shape[0], dtype=bool)
    for _ in range(NEWTON_STEPS):  # a fixed few steps, each over all trials at once
        p = expit(np.einsum("tni,ti->tn", x, beta))
        hess = np.einsum("tni,tn,tnj->tij", x, p * (1.0 - p) * w, x)
        grad = np.einsum("tni,tn->ti", x, (y - p) * w)
        ok &= np.abs(np.linalg.det(hess)) > 1e-12
        step = np.linalg.solve(np.where(ok[:, None, None], hess, np.eye(3)), grad[..., None])[
            ..., 0
        ]
        beta = np.where(ok[:, None], beta + step, beta)
        if np.all(np.abs(step[ok]) < NEWTON_TOL):
            break
    p = expit(np.einsum("tni,ti->tn", x, beta))
    hess = np.einsum("tni,tn,tnj->tij", x, p * (1.0 - p) * w, x)
    ok &= (np.abs(np.linalg.det(hess)) > 1e-12) & (np.abs(beta) < SEPARATED).all(axis=1)
    inv = np.linalg.inv(np.where(ok[:, None, None], hess, np.eye(3)))
    with np.errstate(invalid="ignore"):
        se = np.sqrt(inv[:, 1, 1])
    z = beta[:, 1] / se
    pval = 2.0 * stats.norm.sf(np.abs(z))
    nan = np.where(ok, 1.0, np.nan)
    return ArmEffect(beta[:, 1] * nan, se * nan, z * nan, pval * nan)


def rejects(effect: ArmEffect, alpha: float) -> Array:
    """(T,) bool: the trial's two-sided test rejects at alpha (NaN never rejects)."""
    return np.nan_to_num(effect.p_value, nan=1.0) < alpha
