"""The closed-form REML random-intercept fit against statsmodels MixedLM on the same data."""

import warnings

import numpy as np
import polars as pl
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from celltrial.analysis.mixed import fit_mixed, fit_random_intercept, mixed_models

VISITS = ["v0", "v1", "v2", "v3"]


def _data(n: int, seed: int, drop: float, sd_b: float = 1.0) -> pl.DataFrame:
    """n participants x 4 visits, a participant effect, a visit effect; `drop` of the
    follow-up values missing at random (unbalanced)."""
    rng = np.random.default_rng(seed)
    pid = np.repeat([f"P{i:03d}" for i in range(n)], len(VISITS))
    vis = np.tile(VISITS, n)
    effect = np.tile([0.0, -0.5, -0.9, -0.7], n)
    y = 8 + np.repeat(rng.normal(0, sd_b, n), len(VISITS)) + effect + rng.normal(0, 0.6, 4 * n)
    keep = (vis == "v0") | (rng.random(4 * n) > drop)
    return pl.DataFrame({"participant_id": pid, "visit_id": vis, "value": y}).filter(keep)


def _statsmodels(frame: pl.DataFrame):
    pdf = frame.to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.mixedlm(
            "value ~ C(visit_id, Treatment(reference='v0'))", pdf, groups=pdf["participant_id"]
        )
        return model.fit(reml=True)


@pytest.mark.parametrize(("n", "seed", "drop"), [(30, 1, 0.0), (40, 2, 0.3), (25, 3, 0.5)])
def test_fit_mixed_matches_statsmodels(n: int, seed: int, drop: float) -> None:
    frame = _data(n, seed, drop).with_columns(pl.lit("fpg").alias("analyte"))
    ours = fit_mixed(frame, "fpg", VISITS, "v0").sort("visit_id")
    ref = _statsmodels(frame)
    ci = ref.conf_int()
    for row in ours.iter_rows(named=True):
        term = f"C(visit_id, Treatment(reference='v0'))[T.{row['visit_id']}]"
        assert row["estimate"] == pytest.approx(ref.params[term], rel=1e-4, abs=1e-6)
        # SEs are the GLS (X'V^-1 X)^-1 sigma^2 (as nlme/lme4; checked densely below);
        # statsmodels takes them from the observed information of all parameters, which
        # differs by up to ~1 % when many values are missing: compare them to 1 %
        ref_half = (ci.loc[term, 1] - ci.loc[term, 0]) / 2
        assert row["se"] == pytest.approx(ref_half / stats.norm.ppf(0.975), rel=1e-2)
        # inference with t on the reported df (Satterthwaite, checked below), not Wald z
        assert row["df_method"] == "Satterthwaite" and 1 < row["df"] < row["n_observations"]
        half = stats.t.ppf(0.975, row["df"]) * row["se"]
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(
            (row["estimate"] - half, row["estimate"] + half)
        )
        assert row["t"] == pytest.approx(row["estimate"] / row["se"])
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(row["t"]), row["df"]))
        assert row["n_observations"] == frame.height and row["n_participants"] == n


@pytest.mark.parametrize(("m", "seed"), [(6, 1), (8, 3), (12, 5)])
def test_balanced_design_t_and_df_equal_the_two_way_anova_by_hand(m: int, seed: int) -> None:
    # m participants at every one of 4 visits: the visit contrasts are within-participant, so
    # their Satterthwaite df is the error df of the two-way ANOVA, (m - 1)(k - 1), and their
    # SE is sqrt(2 MSE / m) with MSE the residual mean square (participant x visit).
    frame = _data(m, seed, 0.0, sd_b=1.5).with_columns(pl.lit("a").alias("analyte"))
    y = frame.sort("participant_id", "visit_id")["value"].to_numpy().reshape(m, len(VISITS))
    resid = y - y.mean(1, keepdims=True) - y.mean(0, keepdims=True) + y.mean()
    df_error = (m - 1) * (len(VISITS) - 1)
    mse = (resid**2).sum() / df_error
    se = np.sqrt(2 * mse / m)
    ours = fit_mixed(frame, "a", VISITS, "v0").sort("visit_id")
    for j, row in enumerate(ours.iter_rows(named=True), start=1):
        diff = y[:, j].mean() - y[:, 0].mean()
        t = diff / se
        assert row["df_method"] == "Satterthwaite"
        assert row["df"] == pytest.approx(df_error, rel=1e-5)
        assert row["estimate"] == pytest.approx(diff, rel=1e-9)
        assert row["se"] == pytest.approx(se, rel=1e-6)
        assert row["t"] == pytest.approx(t, rel=1e-6)
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), df_error), rel=1e-5)
        half = stats.t.ppf(0.975, df_error) * se
        assert row["ci_low"] == pytest.approx(diff - half, rel=1e-6)


def _dense_satterthwaite(frame: pl.DataFrame, scale: float, group_var: float) -> np.ndarray:
    """Satterthwaite df of the visit coefficients from dense N x N matrices, at variances fitted
    by statsmodels, differentiating in (sigma^2, sigma_b^2) themselves (not their logs)."""
    codes = frame["participant_id"].rank("dense").cast(int).to_numpy() - 1
    x = np.column_stack(
        [np.ones(frame.height)] + [(frame["visit_id"] == v).to_numpy() for v in VISITS[1:]]
    ).astype(float)
    y = frame["value"].to_numpy()
    zz = (codes[:, None] == codes[None, :]).astype(float)

    def cov_beta(theta: np.ndarray) -> np.ndarray:
        v = theta[0] * np.eye(len(y)) + theta[1] * zz
        return np.linalg.inv(x.T @ np.linalg.solve(v, x))

    def deviance(theta: np.ndarray) -> float:  # -2 REML log-likelihood, up to a constant
        v = theta[0] * np.eye(len(y)) + theta[1] * zz
        vinv = np.linalg.inv(v)
        c = np.linalg.inv(x.T @ vinv @ x)
        r = y - x @ c @ x.T @ vinv @ y
        return np.linalg.slogdet(v)[1] - np.linalg.slogdet(c)[1] + r @ vinv @ r

    theta = np.array([scale, group_var])
    h = 1e-4 * theta
    e = np.diag(h)
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            hess[i, j] = (
                deviance(theta + e[i] + e[j])
                - deviance(theta + e[i] - e[j])
                - deviance(theta - e[i] + e[j])
                + deviance(theta - e[i] - e[j])
            ) / (4 * h[i] * h[j])
    grad = np.stack(
        [np.diag(cov_beta(theta + e[i]) - cov_beta(theta - e[i])) / (2 * h[i]) for i in range(2)]
    )
    f = np.diag(cov_beta(theta))
    a = 2 * np.linalg.inv(hess)
    return 2 * f**2 / np.einsum("ip,ij,jp->p", grad, a, grad)


@pytest.mark.parametrize(("n", "seed", "drop"), [(10, 4, 0.3), (15, 9, 0.5)])
def test_satterthwaite_df_unbalanced_matches_dense_computation(n: int, seed: int, drop: float):
    frame = _data(n, seed, drop).with_columns(pl.lit("a").alias("analyte"))
    ref = _statsmodels(frame)
    dense = _dense_satterthwaite(frame, ref.scale, float(ref.cov_re.iloc[0, 0]))
    ours = fit_mixed(frame, "a", VISITS, "v0").sort("visit_id")
    # unbalanced: the df lie between the error df and N - p, not at a whole number
    assert ours["df"].to_numpy() == pytest.approx(dense[1:], rel=2e-3)


def test_no_between_participant_variance_gives_the_least_squares_df() -> None:
    # residuals centred within each participant: every participant mean is the same, the
    # REML estimate of sigma_b^2 is 0 (boundary), the model is least squares: df = N - p
    rng = np.random.default_rng(5)
    e = rng.normal(0, 0.6, (10, len(VISITS)))
    e -= e.mean(axis=1, keepdims=True)
    y = 8 + np.array([0.0, -0.5, -0.9, -0.7]) + e
    frame = pl.DataFrame(
        {
            "participant_id": np.repeat([f"P{i}" for i in range(10)], len(VISITS)),
            "visit_id": np.tile(VISITS, 10),
            "value": y.ravel(),
            "analyte": "a",
        }
    )
    ours = fit_mixed(frame, "a", VISITS, "v0")
    assert ours["df"].to_numpy() == pytest.approx([40 - 4] * 3, rel=1e-4)
    resid = y - y.mean(0)  # least squares on visit means: residual variance on 36 df
    se = np.sqrt(2 * (resid**2).sum() / 36 / 10)
    assert ours["se"].to_numpy() == pytest.approx([se] * 3, rel=1e-6)


@pytest.mark.parametrize("drop", [0.25, 0.5])
def test_variance_components_and_gls_se_match(drop: float) -> None:
    frame = _data(50, 7, drop, sd_b=1.5)
    codes = frame["participant_id"].rank("dense").cast(int).to_numpy() - 1
    x = np.column_stack(
        [np.ones(frame.height)] + [(frame["visit_id"] == v).to_numpy() for v in VISITS[1:]]
    ).astype(float)
    fit = fit_random_intercept(codes, x, frame["value"].to_numpy())
    ref = _statsmodels(frame)
    assert fit.scale == pytest.approx(ref.scale, rel=1e-3)
    assert fit.group_var == pytest.approx(float(ref.cov_re.iloc[0, 0]), rel=1e-3)
    # GLS by dense matrices with statsmodels' variances: V = sigma^2 I + sigma_b^2 Z Z'
    z = (codes[:, None] == codes[None, :]).astype(float)
    v = ref.scale * np.eye(len(codes)) + float(ref.cov_re.iloc[0, 0]) * z
    cov = np.linalg.inv(x.T @ np.linalg.solve(v, x))
    assert fit.bse == pytest.approx(np.sqrt(np.diag(cov)), rel=1e-4)
    beta = cov @ x.T @ np.linalg.solve(v, frame["value"].to_numpy())
    assert fit.params == pytest.approx(beta, rel=1e-5)


def test_no_participant_effect_reaches_the_boundary_like_ols() -> None:
    # sigma_b = 0 and a balanced design: REML gives gamma -> 0 or the OLS fit; the visit
    # coefficients are then the differences of visit means whatever gamma is (balanced).
    frame = _data(40, 11, 0.0, sd_b=0.0).with_columns(pl.lit("a").alias("analyte"))
    ours = fit_mixed(frame, "a", VISITS, "v0")
    means = frame.group_by("visit_id").agg(pl.col("value").mean())
    m = dict(means.iter_rows())
    for row in ours.iter_rows(named=True):
        assert row["estimate"] == pytest.approx(m[row["visit_id"]] - m["v0"], rel=1e-9)


def test_outcomes_fitted_together_match_statsmodels_each() -> None:
    # two outcomes in one frame, with different participants and visit lists: the tallies
    # over (outcome, participant, visit) must keep them apart (b is not scheduled at v2)
    first = _data(30, 21, 0.2).with_columns(pl.lit("a").alias("analyte"))
    second = _data(35, 22, 0.3).with_columns(
        pl.lit("b").alias("analyte"), (pl.col("participant_id") + "x").alias("participant_id")
    )
    second = second.filter(pl.col("visit_id") != "v2")
    both = pl.concat([first, second])
    b_visits = ["v0", "v1", "v3"]
    ours = mixed_models(both, [("a", VISITS), ("b", b_visits)], "v0")
    assert ours["analyte"].to_list() == ["a"] * 3 + ["b"] * 2
    for analyte, frame in [("a", first), ("b", second)]:
        ref = _statsmodels(frame)
        got = ours.filter(pl.col("analyte") == analyte)
        assert got["n_observations"][0] == frame.height
        for row in got.iter_rows(named=True):
            term = f"C(visit_id, Treatment(reference='v0'))[T.{row['visit_id']}]"
            assert row["estimate"] == pytest.approx(ref.params[term], rel=1e-4, abs=1e-6)


def test_an_analyte_listed_twice_gets_both_models() -> None:
    # the same analyte as two outcomes with different visit lists: each is fitted on its own
    frame = _data(30, 31, 0.2).with_columns(pl.lit("a").alias("analyte"))
    short = ["v0", "v1", "v3"]
    ours = mixed_models(frame, [("a", VISITS), ("a", short)], "v0")
    assert ours["visit_id"].to_list() == ["v1", "v2", "v3", "v1", "v3"]
    for visits, got in [(VISITS, ours.head(3)), (short, ours.tail(2))]:
        subset = frame.filter(pl.col("visit_id").is_in(visits))
        ref = _statsmodels(subset)
        assert got["n_observations"][0] == subset.height
        for row in got.iter_rows(named=True):
            term = f"C(visit_id, Treatment(reference='v0'))[T.{row['visit_id']}]"
            assert row["estimate"] == pytest.approx(ref.params[term], rel=1e-4, abs=1e-6)


def test_outcomes_in_small_batches_give_the_same_models(monkeypatch) -> None:
    # the tallies are bounded in memory by fitting outcomes in batches: one outcome per batch
    # must give exactly the models of one batch for all
    from celltrial.analysis import mixed

    first = _data(30, 41, 0.2).with_columns(pl.lit("a").alias("analyte"))
    second = _data(30, 42, 0.3).with_columns(pl.lit("b").alias("analyte"))
    both = pl.concat([first, second])
    plan = [("a", VISITS), ("b", VISITS), ("a", ["v0", "v2"])]
    together = mixed_models(both, plan, "v0")
    monkeypatch.setattr(mixed, "_MAX_TALLY_CELLS", 1)
    assert mixed_models(both, plan, "v0").equals(together)
    assert together["analyte"].to_list() == ["a"] * 3 + ["b"] * 3 + ["a"]
