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
        # differs by up to ~1 % when many values are missing: compare half-widths to 1 %
        half = (row["ci_high"] - row["ci_low"]) / 2
        ref_half = (ci.loc[term, 1] - ci.loc[term, 0]) / 2
        assert half == pytest.approx(ref_half, rel=1e-2)
        assert (row["ci_low"] + row["ci_high"]) / 2 == pytest.approx(row["estimate"])
        z = stats.norm.isf(row["p_value"] / 2)
        assert z == pytest.approx(abs(row["estimate"]) / (half / stats.norm.ppf(0.975)))
        assert row["n_observations"] == frame.height and row["n_participants"] == n


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
