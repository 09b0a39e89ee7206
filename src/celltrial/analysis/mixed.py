"""Linear mixed model per outcome over all observed values (not only completers).

value ~ visit (baseline as reference) + random intercept per participant, fitted by REML with
statsmodels MixedLM (Laird NM, Ware JH. Biometrics 1982;38:963). The visit coefficients are the
estimated changes from baseline; under missing-at-random they use every participant's data.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import statsmodels.formula.api as smf

METHOD_LMM = "linear mixed model (REML; visit fixed, random intercept per participant)"
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


def _empty(
    analyte: str, visits: list[str], baseline: str, n_p: int, n_o: int, reason: str
) -> pl.DataFrame:
    rows = [
        {
            "analyte": analyte,
            "visit_id": v,
            "baseline_visit_id": baseline,
            "n_participants": n_p,
            "n_observations": n_o,
            "reason": reason,
        }
        for v in visits  # one row per visit of one outcome
    ]
    return pl.DataFrame(rows, schema=_COLUMNS)


def fit_mixed(values: pl.DataFrame, analyte: str, visits: list[str], baseline: str) -> pl.DataFrame:
    """Estimated change from baseline at each follow-up visit with its 95 % CI, for one outcome.

    Degenerate data (no follow-up values, one participant, constant values, a failed fit) give
    rows with the counts and a reason instead of an exception.
    """
    follow = [v for v in visits if v != baseline]
    data = values.filter((pl.col("analyte") == analyte) & pl.col("visit_id").is_in(visits))
    n_p, n_o = data["participant_id"].n_unique(), data.height
    observed = set(data["visit_id"].unique().to_list())
    if baseline not in observed or len(observed) < 2:
        return _empty(analyte, follow, baseline, n_p, n_o, "no baseline or no follow-up values")
    if n_p < 2 or data["value"].n_unique() < 2:
        return _empty(analyte, follow, baseline, n_p, n_o, "fewer than 2 participants or values")
    pdf = data.select("participant_id", "visit_id", "value").to_pandas()
    formula = f"value ~ C(visit_id, Treatment(reference={baseline!r}))"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = smf.mixedlm(formula, pdf, groups=pdf["participant_id"]).fit(reml=True)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return _empty(analyte, follow, baseline, n_p, n_o, f"model failed: {exc}")
    ci = fit.conf_int(alpha=0.05)
    rows = []
    for v in follow:  # one row per visit of one outcome, not per datum
        term = f"C(visit_id, Treatment(reference={baseline!r}))[T.{v}]"
        ok = v in observed and term in fit.params.index
        rows.append(
            {
                "analyte": analyte,
                "visit_id": v,
                "baseline_visit_id": baseline,
                "n_participants": n_p,
                "n_observations": n_o,
                "estimate": float(fit.params[term]) if ok else None,
                "ci_low": float(ci.loc[term, 0]) if ok else None,
                "ci_high": float(ci.loc[term, 1]) if ok else None,
                "p_value": float(fit.pvalues[term]) if ok else None,
                "converged": bool(fit.converged),
                "reason": None if ok else "no values at this visit",
            }
        )
    out = pl.DataFrame(rows, schema=_COLUMNS)
    if caught and any("converge" in str(w.message).lower() for w in caught):
        out = out.with_columns(pl.coalesce("reason", pl.lit("convergence warning")).alias("reason"))
    return out


def mixed_models(
    values: pl.DataFrame, outcomes: list[tuple[str, list[str]]], baseline: str
) -> pl.DataFrame:
    """fit_mixed for each (analyte, visits) outcome, stacked; one model per outcome."""
    frames = [fit_mixed(values, a, v, baseline) for a, v in outcomes]
    if not frames:
        return pl.DataFrame(schema=_COLUMNS)
    return pl.concat(frames, how="diagonal_relaxed").select(list(_COLUMNS))
