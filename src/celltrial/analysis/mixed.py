"""Linear mixed model per outcome over all observed values (not only completers).

value ~ visit (baseline as reference) + random intercept per participant, fitted by REML
(Laird NM, Ware JH. Biometrics 1982;38:963). The visit coefficients are the estimated changes
from baseline; under missing-at-random they use every participant's data.

The random-intercept model has a closed-form inverse covariance per participant, so the REML
likelihood profiled over the residual variance is a function of one ratio, gamma =
sigma_b^2 / sigma^2, computed from per-participant sums in O(participants x p^2) NumPy work.
With V_i = sigma^2 (I + gamma J): V_i^-1 = (I - w_i J) / sigma^2, w_i = gamma / (1 + n_i gamma),
|I + gamma J| = 1 + n_i gamma (Searle SR, Casella G, McCulloch CE. Variance Components 1992,
sec. 6.8). statsmodels MixedLM fits the same model by the same criterion, but loops over
participants in Python (minutes at 100,000 participants); tests/analysis/test_mixed.py checks
estimates and standard errors against it.

Inference on each visit coefficient uses t = estimate / SE with Satterthwaite's degrees of
freedom (Satterthwaite FE, Biometrics Bull 1946;2:110; as lmerTest, Kuznetsova A et al.,
J Stat Softw 2017;82(13)): df = 2 Var(b)^2 / (g' A g), g the gradient of Var(b) = sigma^2
[(X'V0^-1 X)^-1]_jj in the variance parameters and A their asymptotic covariance, twice the
inverse Hessian of the REML deviance; both by central differences of the closed form. In a
balanced design it is the within-participant error df, (participants - 1)(visits - 1). At the
boundary sigma_b^2 = 0 the model is ordinary least squares and the residual df N - p is used.
Wald tests with the normal distribution (statsmodels MixedLM) are too liberal at small n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import optimize, stats

from celltrial.analysis.values import as_keys, dense_codes, positions

METHOD_LMM = "linear mixed model (REML; visit fixed, random intercept per participant)"
CONF_LEVEL = 0.95
# Step of the central differences in log sigma^2 and log sigma_b^2: truncation error O(h^2)
# ~ 1e-6 against rounding error eps |deviance| / h^2; the balanced-design df comes out
# within 1e-6 of (participants - 1)(visits - 1) (tests/analysis/test_mixed.py).
_LOG_STEP = 1e-3
# Search range of log(gamma): gamma from e^-25 (no participant effect) to e^15 (no residual).
_LOG_GAMMA_BOUNDS = (-25.0, 15.0)
_COLUMNS = {
    "analyte": pl.Utf8,
    "visit_id": pl.Utf8,
    "baseline_visit_id": pl.Utf8,
    "n_participants": pl.Int64,
    "n_observations": pl.Int64,
    "estimate": pl.Float64,
    "se": pl.Float64,
    "t": pl.Float64,
    "df": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "df_method": pl.Utf8,
    "converged": pl.Boolean,
    "reason": pl.Utf8,
}


@dataclass(frozen=True)
class RandomInterceptFit:
    """REML fit of y ~ X beta + b_participant + e: coefficients, their SEs, variances."""

    params: np.ndarray
    bse: np.ndarray
    scale: float  # residual variance sigma^2
    group_var: float  # random-intercept variance sigma_b^2
    converged: bool
    df: np.ndarray  # degrees of freedom of each coefficient's t (Satterthwaite or residual)
    df_method: str  # DF_SATTERTHWAITE or DF_RESIDUAL


@dataclass(frozen=True)
class _Sums:
    """Sufficient statistics of the random-intercept model. The weight w_i depends on the
    participant only through n_i, so the per-participant terms are pooled by n_i:
    sum_i w_i a_i a_i' = sum_n w(n) sum_{n_i = n} a_i a_i', with a_i = X_i'1 and s_i = 1'y_i."""

    xtx: np.ndarray  # X'X (p x p)
    xty: np.ndarray  # X'y (p)
    yty: float
    sizes: np.ndarray  # distinct n_i (k)
    count: np.ndarray  # participants with each n_i (k)
    aa: np.ndarray  # sum of a_i a_i' per distinct n_i (k x p x p)
    a_s: np.ndarray  # sum of a_i s_i per distinct n_i (k x p)
    ss: np.ndarray  # sum of s_i^2 per distinct n_i (k)


def _sums(group: np.ndarray, x: np.ndarray, y: np.ndarray) -> _Sums:
    """group: participant codes (may be sparse); x: N x p design; y: N responses."""
    m = int(group.max()) + 1
    p = x.shape[1]
    # one bincount per design column (p is the number of visits), none per participant
    a = np.stack([np.bincount(group, weights=x[:, j], minlength=m) for j in range(p)], axis=1)
    s = np.bincount(group, weights=y, minlength=m)
    n = np.bincount(group, minlength=m)
    return _pool(a, s, n, x.T @ x, x.T @ y, float(y @ y))


def _pool(
    a: np.ndarray, s: np.ndarray, n: np.ndarray, xtx: np.ndarray, xty: np.ndarray, yty: float
) -> _Sums:
    """_Sums from a_i = X_i'1, s_i = 1'y_i and n_i per participant code (codes without
    observations, n_i = 0, add nothing: categorical codes may be sparse)."""
    tally = np.bincount(n)
    sizes = np.flatnonzero(tally[1:]) + 1  # the distinct n_i > 0
    # one masked matrix product per distinct n_i (at most p + 1 of them), none per participant
    masks = [(n == c).astype(float) for c in sizes]
    aa = np.stack([(a * w[:, None]).T @ a for w in masks])
    a_s = np.stack([a.T @ (s * w) for w in masks])
    ss = np.array([(s * s) @ w for w in masks])
    return _Sums(xtx, xty, yty, sizes.astype(float), tally[sizes], aa, a_s, ss)


def _gls(sums: _Sums, gamma: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """beta, H = X'V0^-1 X, Q = r'V0^-1 r and log|V0| at ratio gamma (V0 = V / sigma^2)."""
    w = gamma / (1.0 + sums.sizes * gamma)
    h = sums.xtx - np.tensordot(w, sums.aa, axes=1)
    g = sums.xty - w @ sums.a_s
    beta = np.linalg.solve(h, g)
    q = sums.yty - float(w @ sums.ss) - float(beta @ g)
    logdet_v = float(sums.count @ np.log1p(sums.sizes * gamma))
    return beta, h, q, logdet_v


def _neg_reml(log_gamma: float, sums: _Sums, dof: int) -> float:
    """-2 x REML log-likelihood with sigma^2 profiled out, up to a constant (Searle 1992 6.8):
    (N - p) log(Q / (N - p)) + log|V0| + log|X'V0^-1 X|."""
    _, h, q, logdet_v = _gls(sums, float(np.exp(log_gamma)))
    sign, logdet_h = np.linalg.slogdet(h)
    if q <= 0 or sign <= 0:
        return np.inf
    return dof * np.log(q / dof) + logdet_v + logdet_h


DF_SATTERTHWAITE = "Satterthwaite"
DF_RESIDUAL = "residual"


def _deviance(sums: _Sums, dof: int, log_theta: np.ndarray) -> float:
    """-2 x REML log-likelihood at (log sigma^2, log sigma_b^2), up to a constant:
    (N - p) log sigma^2 + log|V0| + log|X'V0^-1 X| + Q / sigma^2 (V = sigma^2 V0)."""
    scale, group_var = np.exp(log_theta)
    _, h, q, logdet_v = _gls(sums, group_var / scale)
    return dof * np.log(scale) + logdet_v + np.linalg.slogdet(h)[1] + q / scale


def _coef_var(sums: _Sums, log_theta: np.ndarray) -> np.ndarray:
    """Var of each coefficient, sigma^2 diag((X'V0^-1 X)^-1), at (log sigma^2, log sigma_b^2)."""
    scale, group_var = np.exp(log_theta)
    _, h, _, _ = _gls(sums, group_var / scale)
    return scale * np.diag(np.linalg.inv(h))


def _satterthwaite(sums: _Sums, dof: int, scale: float, group_var: float) -> np.ndarray:
    """Satterthwaite df of every coefficient: 2 f^2 / (g' A g), A = 2 H^-1 with H the Hessian
    of the REML deviance, f the coefficient's variance and g its gradient (lmerTest's
    recipe; derivatives by central differences in the log variances, invariant at the
    optimum to that choice of parameters)."""
    at = np.log([scale, group_var])
    step = np.eye(2) * _LOG_STEP
    dev = {
        (i, j): _deviance(sums, dof, at + i * step[0] + j * step[1])
        for i in (-1, 0, 1)
        for j in (-1, 0, 1)
    }  # nine evaluations of the closed form: the 3 x 3 stencil
    d2_scale = dev[1, 0] - 2 * dev[0, 0] + dev[-1, 0]
    d2_group = dev[0, 1] - 2 * dev[0, 0] + dev[0, -1]
    d2_cross = (dev[1, 1] - dev[1, -1] - dev[-1, 1] + dev[-1, -1]) / 4
    hess = np.array([[d2_scale, d2_cross], [d2_cross, d2_group]]) / _LOG_STEP**2
    grad = np.stack(
        [(_coef_var(sums, at + d) - _coef_var(sums, at - d)) / (2 * _LOG_STEP) for d in step]
    )  # (2 parameters, p coefficients)
    a = 2.0 * np.linalg.inv(hess)
    f = _coef_var(sums, at)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2.0 * f**2 / np.einsum("ip,ij,jp->p", grad, a, grad)


def fit_random_intercept(group: np.ndarray, x: np.ndarray, y: np.ndarray) -> RandomInterceptFit:
    """REML fit of the random-intercept model (group: integer participant codes from 0)."""
    sums = _sums(np.asarray(group, dtype=np.int64), np.asarray(x, float), np.asarray(y, float))
    return _fit(sums, len(y) - x.shape[1])


def _fit(sums: _Sums, dof: int) -> RandomInterceptFit:
    res = optimize.minimize_scalar(
        _neg_reml,
        bounds=_LOG_GAMMA_BOUNDS,
        args=(sums, dof),
        method="bounded",
        options={"xatol": 1e-10},
    )
    log_gamma = float(res.x)
    # the boundary gamma = 0 (no between-participant variance) is a valid REML maximum
    if _neg_reml(_LOG_GAMMA_BOUNDS[0], sums, dof) < res.fun:
        log_gamma = _LOG_GAMMA_BOUNDS[0]
    gamma = float(np.exp(log_gamma))
    beta, h, q, _ = _gls(sums, gamma)
    scale = q / dof
    bse = np.sqrt(np.diag(np.linalg.inv(h)) * scale)
    df, how = np.full(len(beta), float(dof)), DF_RESIDUAL  # sigma_b^2 = 0: least squares
    if log_gamma > _LOG_GAMMA_BOUNDS[0]:
        with np.errstate(all="ignore"):
            sat = _satterthwaite(sums, dof, scale, gamma * scale)
        if np.all(np.isfinite(sat) & (sat > 0)):
            df, how = sat, DF_SATTERTHWAITE
    return RandomInterceptFit(beta, bse, scale, gamma * scale, bool(res.success), df, how)


def _empty(
    analyte: str, visits: list[str], baseline: str, n_p: int, n_o: int, reason: str
) -> pl.DataFrame:
    k = len(visits)
    return pl.DataFrame(
        {
            "analyte": [analyte] * k,
            "visit_id": visits,
            "baseline_visit_id": [baseline] * k,
            "n_participants": [n_p] * k,
            "n_observations": [n_o] * k,
            "estimate": [None] * k,
            "se": [None] * k,
            "t": [None] * k,
            "df": [None] * k,
            "ci_low": [None] * k,
            "ci_high": [None] * k,
            "p_value": [None] * k,
            "df_method": [None] * k,
            "converged": [None] * k,
            "reason": [reason] * k,
        },
        schema=_COLUMNS,
    )


@dataclass(frozen=True)
class _Tallies:
    """Every outcome's sufficient statistics at once, by outcome o, participant i and visit
    position j (0 = baseline): observation counts, sums of values, extremes."""

    counts: np.ndarray  # (outcome, participant, visit) number of observations
    sums: np.ndarray  # (outcome, participant) sum of values
    visit_sums: np.ndarray  # (outcome, visit) sum of values
    squares: np.ndarray  # (outcome) sum of squared values
    low: np.ndarray  # (outcome) smallest value
    high: np.ndarray  # (outcome) largest value


def fit_mixed(values: pl.DataFrame, analyte: str, visits: list[str], baseline: str) -> pl.DataFrame:
    """Estimated change from baseline at each follow-up visit with its 95 % CI, for one outcome.

    Degenerate data (no follow-up values, one participant, constant values, a singular design)
    give rows with the counts and a reason instead of an exception.
    """
    return mixed_models(values, [(analyte, visits)], baseline)


def _fit_outcome(
    t: _Tallies, o: int, analyte: str, visits: list[str], baseline: str
) -> pl.DataFrame:
    follow = [v for v in visits if v != baseline]
    counts = t.counts[o]
    n = counts.sum(axis=1)
    per_visit = counts.sum(axis=0)
    n_o, n_p = int(n.sum()), int(np.count_nonzero(n))
    if not per_visit[0] or np.count_nonzero(per_visit) < 2:
        return _empty(analyte, follow, baseline, n_p, n_o, "no baseline or no follow-up values")
    if n_p < 2 or t.low[o] == t.high[o]:
        return _empty(analyte, follow, baseline, n_p, n_o, "fewer than 2 participants or values")
    terms = [j for j in range(1, len(follow) + 1) if per_visit[j]]  # observed follow-ups
    xtx = np.diag(per_visit[[0, *terms]].astype(float))
    xtx[0, 0] = n_o
    xtx[0, 1:] = xtx[1:, 0] = per_visit[terms]
    xty = np.concatenate([[t.visit_sums[o].sum()], t.visit_sums[o, terms]])
    a = np.column_stack([n, counts[:, terms]]).astype(float)
    try:
        fit = _fit(_pool(a, t.sums[o], n, xtx, xty, float(t.squares[o])), n_o - 1 - len(terms))
    except np.linalg.LinAlgError as exc:
        return _empty(analyte, follow, baseline, n_p, n_o, f"model failed: {exc}")
    e, s, df = (np.full(len(follow), np.nan) for _ in range(3))
    at = np.array(terms) - 1
    e[at], s[at], df[at] = fit.params[1:], fit.bse[1:], fit.df[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = e / s
        p = 2.0 * stats.t.sf(np.abs(t), df)
        half = stats.t.ppf(0.5 + CONF_LEVEL / 2.0, df) * s
    ok = ~np.isnan(e)
    return pl.DataFrame(
        {
            "analyte": [analyte] * len(follow),
            "visit_id": follow,
            "baseline_visit_id": [baseline] * len(follow),
            "n_participants": [n_p] * len(follow),
            "n_observations": [n_o] * len(follow),
            "estimate": e,
            "se": s,
            "t": t,
            "df": df,
            "ci_low": e - half,
            "ci_high": e + half,
            "p_value": p,
            "df_method": [fit.df_method if k else None for k in ok],
            "converged": [fit.converged] * len(follow),
            "reason": [None if k else "no values at this visit" for k in ok],
        },
        schema=_COLUMNS,
    ).with_columns(
        pl.col(c).fill_nan(None)
        for c in ("estimate", "se", "t", "df", "ci_low", "ci_high", "p_value")
    )


def _tallies(
    values: pl.DataFrame, outcomes: list[tuple[str, list[str]]], baseline: str
) -> _Tallies:
    """One pass over the frame: a table indexed by (analyte, visit) gives each row its outcome
    and visit position; bincounts over (outcome, participant, visit) do the rest."""
    keys = as_keys(values)
    scheduled = [[baseline, *[v for v in vs if v != baseline]] for _, vs in outcomes]
    visit_names = list(dict.fromkeys(v for vs in scheduled for v in vs))
    analyte = positions(keys["analyte"], [a for a, _ in outcomes])
    visit = positions(keys["visit_id"], visit_names)
    n_o, k = len(outcomes), max(len(vs) for vs in scheduled)
    outcome_of = np.full((n_o + 1, len(visit_names) + 1), n_o)  # last row/column: not wanted
    position_of = np.zeros_like(outcome_of)
    for o, ((_, vs), order) in enumerate(zip(outcomes, scheduled, strict=True)):
        for j, v in enumerate(order):  # one step per scheduled visit of an outcome
            if v in vs:  # an outcome not scheduled at baseline gets no baseline slot
                outcome_of[o, visit_names.index(v)] = o
                position_of[o, visit_names.index(v)] = j
    o = outcome_of[analyte, visit]
    keep = o < n_o
    o, pos = o[keep], position_of[analyte[keep], visit[keep]]
    y = keys["value"].to_numpy()[keep]
    g = dense_codes(keys["participant_id"].to_physical().to_numpy()[keep])
    m = int(g.max(initial=-1)) + 1
    cell = o * m + g
    low, high = np.full(n_o, np.inf), np.full(n_o, -np.inf)
    np.minimum.at(low, o, y)
    np.maximum.at(high, o, y)
    return _Tallies(
        np.bincount(cell * k + pos, minlength=n_o * m * k).reshape(n_o, m, k),
        np.bincount(cell, weights=y, minlength=n_o * m).reshape(n_o, m),
        np.bincount(o * k + pos, weights=y, minlength=n_o * k).reshape(n_o, k),
        np.bincount(o, weights=y * y, minlength=n_o),
        low,
        high,
    )


# The count tallies of one batch of outcomes hold at most this many int64 cells (256 MB): a
# registry of a million participants with dozens of outcomes is fitted in several passes.
_MAX_TALLY_CELLS = 2**25


def mixed_models(
    values: pl.DataFrame, outcomes: list[tuple[str, list[str]]], baseline: str
) -> pl.DataFrame:
    """One model per (analyte, visits) outcome, stacked in the order of `outcomes`."""
    if not outcomes:
        return pl.DataFrame(schema=_COLUMNS)
    cells = values["participant_id"].n_unique() * (1 + max(len(vs) for _, vs in outcomes))
    per_batch = max(1, _MAX_TALLY_CELLS // max(cells, 1))  # counts: outcomes x cells int64
    frames: dict[int, pl.DataFrame] = {}
    for batch in _distinct_batches([a for a, _ in outcomes], per_batch):
        chosen = [outcomes[i] for i in batch]
        t = _tallies(values, chosen, baseline)
        for o, (i, (a, vs)) in enumerate(zip(batch, chosen, strict=True)):
            frames[i] = _fit_outcome(t, o, a, vs, baseline)
    stacked = [frames[i] for i in range(len(outcomes))]
    return pl.concat(stacked, how="diagonal_relaxed").select(list(_COLUMNS))


def _distinct_batches(analytes: list[str], size: int) -> list[list[int]]:
    """Outcome indices in batches of at most `size` where no analyte repeats (the tallies key
    rows by analyte): the k-th listing of an analyte goes to the k-th round of batches."""
    rounds: list[list[int]] = []
    seen: dict[str, int] = {}
    for i, a in enumerate(analytes):  # one step per outcome
        k = seen.get(a, 0)
        seen[a] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(i)
    return [r[j : j + size] for r in rounds for j in range(0, len(r), size)]
