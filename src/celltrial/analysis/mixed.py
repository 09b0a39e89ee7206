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
estimates and standard errors against it. Inference is Wald with the normal distribution, as
statsmodels MixedLM reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import optimize, stats

METHOD_LMM = "linear mixed model (REML; visit fixed, random intercept per participant)"
CONF_LEVEL = 0.95
# Search range of log(gamma): gamma from e^-25 (no participant effect) to e^15 (no residual).
_LOG_GAMMA_BOUNDS = (-25.0, 15.0)
_COLUMNS = {
    "analyte": pl.Utf8,
    "visit_id": pl.Utf8,
    "baseline_visit_id": pl.Utf8,
    "n_participants": pl.Int64,
    "n_observations": pl.Int64,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
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
    seen = n > 0  # codes may be sparse (categorical codes): drop the empty ones once
    a, s, n = a[seen], s[seen], n[seen]
    sizes, which, count = np.unique(n, return_inverse=True, return_counts=True)
    k = len(sizes)
    aa = np.stack(  # p^2 bincounts over participants, none per participant
        [
            np.bincount(which, weights=a[:, j] * a[:, i], minlength=k)
            for j in range(p)
            for i in range(p)
        ],
        axis=1,
    ).reshape(k, p, p)
    a_s = np.stack([np.bincount(which, weights=a[:, j] * s, minlength=k) for j in range(p)], 1)
    ss = np.bincount(which, weights=s**2, minlength=k)
    return _Sums(x.T @ x, x.T @ y, float(y @ y), sizes.astype(float), count, aa, a_s, ss)


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


def fit_random_intercept(group: np.ndarray, x: np.ndarray, y: np.ndarray) -> RandomInterceptFit:
    """REML fit of the random-intercept model (group: integer participant codes from 0)."""
    sums = _sums(np.asarray(group, dtype=np.int64), np.asarray(x, float), np.asarray(y, float))
    dof = len(y) - x.shape[1]
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
    return RandomInterceptFit(beta, bse, scale, gamma * scale, bool(res.success))


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
            "ci_low": [None] * k,
            "ci_high": [None] * k,
            "p_value": [None] * k,
            "converged": [None] * k,
            "reason": [reason] * k,
        },
        schema=_COLUMNS,
    )


def fit_mixed(values: pl.DataFrame, analyte: str, visits: list[str], baseline: str) -> pl.DataFrame:
    """Estimated change from baseline at each follow-up visit with its 95 % CI, for one outcome.

    Degenerate data (no follow-up values, one participant, constant values, a singular design)
    give rows with the counts and a reason instead of an exception.
    """
    follow = [v for v in visits if v != baseline]
    data = values.filter((pl.col("analyte") == analyte) & pl.col("visit_id").is_in(visits))
    if "_g" not in data.columns:  # participant codes (mixed_models adds them once for all)
        data = data.with_columns(_participant_codes())
    n_p, n_o = data["_g"].n_unique(), data.height
    observed = set(data["visit_id"].unique().to_list())
    if baseline not in observed or len(observed) < 2:
        return _empty(analyte, follow, baseline, n_p, n_o, "no baseline or no follow-up values")
    if n_p < 2 or data["value"].n_unique() < 2:
        return _empty(analyte, follow, baseline, n_p, n_o, "fewer than 2 participants or values")
    terms = [v for v in follow if v in observed]  # one dummy per observed follow-up visit
    coded = data.select(
        pl.col("_g").cast(pl.Int64).alias("g"),
        *[(pl.col("visit_id") == v).cast(pl.Float64).alias(v) for v in terms],
        pl.col("value").cast(pl.Float64),
    )
    x = np.column_stack([np.ones(n_o), coded.select(terms).to_numpy()])
    try:
        fit = fit_random_intercept(coded["g"].to_numpy(), x, coded["value"].to_numpy())
    except np.linalg.LinAlgError as exc:
        return _empty(analyte, follow, baseline, n_p, n_o, f"model failed: {exc}")
    z = stats.norm.ppf(0.5 + CONF_LEVEL / 2.0)
    est = dict(zip(terms, fit.params[1:], strict=True))
    se = dict(zip(terms, fit.bse[1:], strict=True))
    e = np.array([est.get(v, np.nan) for v in follow])
    s = np.array([se.get(v, np.nan) for v in follow])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2.0 * stats.norm.sf(np.abs(e / s))
    ok = ~np.isnan(e)
    return pl.DataFrame(
        {
            "analyte": [analyte] * len(follow),
            "visit_id": follow,
            "baseline_visit_id": [baseline] * len(follow),
            "n_participants": [n_p] * len(follow),
            "n_observations": [n_o] * len(follow),
            "estimate": e,
            "ci_low": e - z * s,
            "ci_high": e + z * s,
            "p_value": p,
            "converged": [fit.converged] * len(follow),
            "reason": [None if k else "no values at this visit" for k in ok],
        },
        schema=_COLUMNS,
    ).with_columns(pl.col(c).fill_nan(None) for c in ("estimate", "ci_low", "ci_high", "p_value"))


def _participant_codes() -> pl.Expr:
    """Integer code per participant_id (the categorical's physical code: hashed once, and
    codes of participants absent from an outcome are empty groups that add nothing)."""
    return pl.col("participant_id").cast(pl.Categorical).to_physical().alias("_g")


def mixed_models(
    values: pl.DataFrame, outcomes: list[tuple[str, list[str]]], baseline: str
) -> pl.DataFrame:
    """fit_mixed for each (analyte, visits) outcome, stacked; one model per outcome."""
    wanted = values.filter(pl.col("analyte").is_in([a for a, _ in outcomes]))
    parts = wanted.with_columns(_participant_codes()).partition_by("analyte", as_dict=True)
    empty = wanted.clear().with_columns(_participant_codes())
    frames = [fit_mixed(parts.get((a,), empty), a, v, baseline) for a, v in outcomes]
    if not frames:
        return pl.DataFrame(schema=_COLUMNS)
    return pl.concat(frames, how="diagonal_relaxed").select(list(_COLUMNS))
