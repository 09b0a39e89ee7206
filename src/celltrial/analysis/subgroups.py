"""Protocol subgroups (Chin 2025): elevated baseline hs-CRP, early CKD by eGFR stage, men and
women; paired analyses within each, and completers against non-completers at baseline."""

from __future__ import annotations

import operator
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from celltrial.analysis.baseline import participant_covariates
from celltrial.analysis.groups import fisher_2x2, mann_whitney
from celltrial.analysis.paired import compare_with_baseline, pair_with_baseline
from celltrial.analysis.plan import AnalysisPlan
from celltrial.analysis.values import as_keys, as_text
from celltrial.clinical.egfr import ckd_stage
from celltrial.data.study import StudyData

_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def _ckd_stage(egfr: pl.Series) -> pl.Series:
    stages = np.atleast_1d(ckd_stage(egfr.to_numpy()))
    return pl.Series("stage", stages.tolist(), dtype=pl.Utf8)


def members(study: StudyData, values: pl.DataFrame, subgroup: object) -> pl.Series:
    """participant_id of the members of one protocol subgroup (analyte threshold, CKD, sex)."""
    kind = subgroup.kind
    if kind == "sex":
        p = study.participants
        return p.filter(pl.col("sex") == subgroup.sex)["participant_id"]
    if kind == "analyte_threshold":
        at = values.filter(
            (pl.col("analyte") == subgroup.analyte) & (pl.col("visit_id") == subgroup.visit)
        )
        keep = _COMPARE[subgroup.comparison](at["value"], subgroup.threshold)
        return at.filter(keep)["participant_id"]
    if kind == "ckd_stage":
        at = values.filter((pl.col("analyte") == "egfr") & (pl.col("visit_id") == subgroup.visit))
        stage = _ckd_stage(at["value"])
        return at.filter(stage.is_in(list(subgroup.stages)))["participant_id"]
    return pl.Series("participant_id", [], dtype=pl.Utf8)


def subgroup_comparisons(
    study: StudyData, values: pl.DataFrame, plan: AnalysisPlan
) -> pl.DataFrame:
    """Paired comparisons with baseline inside each subgroup, for the outcomes tied to it."""
    frames = []
    for sub in plan.subgroups:  # one step per subgroup
        ids = members(study, values, sub)
        tied = [o for o in plan.outcomes if o.subgroup == sub.id]
        inside = values.filter(pl.col("participant_id").is_in(ids.implode()))
        for o in tied:  # one step per outcome of the subgroup
            frames.append(
                compare_with_baseline(
                    inside, plan.baseline_visit, list(o.visits), [o.analyte], sub.id
                )
            )
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def subgroup_membership(study: StudyData, values: pl.DataFrame, plan: AnalysisPlan) -> pl.DataFrame:
    """subgroup, label, n members, n participants."""
    n_all = study.participants.height
    rows = [
        {"subgroup": s.id, "label": s.label, "n": members(study, values, s).n_unique(), "of": n_all}
        for s in plan.subgroups
    ]
    schema = {"subgroup": pl.Utf8, "label": pl.Utf8, "n": pl.Int64, "of": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def _split(grp: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Changes of the members and of the non-members of one (analyte, visit) group."""
    d, member = grp["d"].to_numpy(), grp["_in"].to_numpy()
    return d[member], d[~member]


def change_between_groups(
    study: StudyData, values: pl.DataFrame, plan: AnalysisPlan, pairs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Change from baseline, members against non-members (Mann-Whitney), per subgroup, tied
    outcome and follow-up visit; the sex subgroups compare men with women. `pairs`: the output
    of pair_with_baseline(values, plan.baseline_visit) if the caller has it already."""
    if pairs is None:
        pairs = pair_with_baseline(values, plan.baseline_visit)
    rows = []
    for sub in plan.subgroups:
        if sub.kind == "sex" and sub.sex == "F":
            continue  # men vs women is already compared under the men subgroup
        ids = members(study, values, sub).implode()
        analytes = [o.analyte for o in plan.outcomes if o.subgroup == sub.id] or plan.analytes
        flagged = pairs.filter(pl.col("analyte").is_in(analytes)).select(
            "analyte", "visit_id", "d", pl.col("participant_id").is_in(ids).alias("_in")
        )  # membership looked up once per subgroup, not once per group
        groups = flagged.group_by("analyte", "visit_id", maintain_order=True)
        splits = [(key, _split(grp)) for key, grp in groups]
        # SciPy's ranking is NumPy sorting, which releases the GIL: the tests run in parallel
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            found = list(pool.map(lambda s: mann_whitney(*s[1]), splits))
        for ((analyte, visit), (inside, outside)), res in zip(splits, found, strict=True):
            rows.append(
                {
                    "subgroup": sub.id,
                    "analyte": analyte,
                    "visit_id": visit,
                    "n_in": res.n1,
                    "n_out": res.n2,
                    "median_change_in": float(np.median(inside)) if len(inside) else None,
                    "median_change_out": float(np.median(outside)) if len(outside) else None,
                    "method": res.method,
                    "statistic": res.statistic,
                    "p_value": res.p_value,
                    "reason": res.reason,
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


def completers(study: StudyData, values: pl.DataFrame, plan: AnalysisPlan) -> pl.DataFrame:
    """Completers (a value at the last scheduled visit) against non-completers at baseline:
    counts, medians and Mann-Whitney for age and each outcome; Fisher's exact test for sex."""
    last = plan.visits[-1] if plan.visits else ""
    done = values.filter(pl.col("visit_id") == last)["participant_id"].unique().implode()
    cov = as_keys(participant_covariates(study)).with_columns(
        pl.col("participant_id").is_in(done).alias("completer")
    )
    base = values.filter(pl.col("visit_id") == plan.baseline_visit).join(
        cov.select("participant_id", "completer"), on="participant_id"
    )
    base, cov = as_text(base), as_text(cov)
    long = pl.concat(
        [
            cov.select(
                "participant_id",
                "completer",
                pl.lit("age").alias("analyte"),
                pl.col("age").alias("value"),
            ),
            base.select("participant_id", "completer", "analyte", "value"),
        ],
        how="vertical_relaxed",
    )
    rows = []
    for variable in ["age", *plan.analytes]:  # one test per variable
        v = long.filter(pl.col("analyte") == variable)
        x = v.filter(pl.col("completer"))["value"].drop_nulls().to_numpy()
        y = v.filter(~pl.col("completer"))["value"].drop_nulls().to_numpy()
        r = mann_whitney(x, y)
        rows.append(_completer_row(variable, r, x, y))
    sex = cov.filter(pl.col("sex").is_not_null())
    a = sex.filter(pl.col("completer") & (pl.col("sex") == "M")).height
    b = sex.filter(pl.col("completer") & (pl.col("sex") != "M")).height
    c = sex.filter(~pl.col("completer") & (pl.col("sex") == "M")).height
    d = sex.filter(~pl.col("completer") & (pl.col("sex") != "M")).height
    f = fisher_2x2(a, b, c, d)
    rows.append(
        {
            "variable": "sex (men)",
            "n_completers": a + b,
            "n_non_completers": c + d,
            "completers": float(a),
            "non_completers": float(c),
            "method": f.method,
            "statistic": f.statistic,
            "p_value": f.p_value,
            "reason": f.reason,
        }
    )
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.lit(last).alias("last_visit_id"),
        pl.lit(cov["completer"].sum()).alias("total_completers"),
        pl.lit(cov.height - cov["completer"].sum()).alias("total_non_completers"),
    )


def _completer_row(variable: str, r: object, x: np.ndarray, y: np.ndarray) -> dict:
    return {
        "variable": variable,
        "n_completers": r.n1,
        "n_non_completers": r.n2,
        "completers": float(np.median(x)) if len(x) else None,  # median at baseline
        "non_completers": float(np.median(y)) if len(y) else None,
        "method": r.method,
        "statistic": r.statistic,
        "p_value": r.p_value,
        "reason": r.reason,
    }
