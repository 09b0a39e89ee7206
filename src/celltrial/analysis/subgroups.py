"""Protocol subgroups (Chin 2025): elevated baseline hs-CRP, early CKD by eGFR stage, men and
women; paired analyses within each, and completers against non-completers at baseline."""

from __future__ import annotations

import operator
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from celltrial.analysis.baseline import participant_covariates
from celltrial.analysis.groups import (
    METHOD_MWU,
    GroupComparison,
    average_ranks,
    fisher_2x2,
    mann_whitney,
    mann_whitney_normal,
    uses_exact,
)
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


@dataclass(frozen=True)
class RankedChanges:
    """The changes d of one (analyte, visit) group sorted ascending, with their average ranks:
    shared by every split of the group into members and non-members."""

    analyte: str
    visit_id: str
    rows: np.ndarray  # row numbers in the pairs frame, in the order of d
    d: np.ndarray
    ranks: np.ndarray
    tie_term: float  # sum(t^3 - t) over runs of equal d
    ties: bool
    has_nan: bool  # NaN d: the group keeps SciPy's own NaN handling (mann_whitney)


def _ranked(rows: np.ndarray, d: np.ndarray, key: tuple[str, str]) -> RankedChanges:
    order = np.argsort(d)  # NaN last, as np.sort
    d = d[order]
    ranks, tie_term = average_ranks(d)
    has_nan = bool(np.isnan(d[-1:]).any())
    return RankedChanges(*key, rows[order], d, ranks, tie_term, tie_term > 0, has_nan)


def rank_changes(pairs: pl.DataFrame) -> list[RankedChanges]:
    """Each (analyte, visit) group of `pairs` (analyte, visit_id, d), in order of first
    appearance, its d sorted and ranked once."""
    groups = as_text(
        pairs.select("analyte", "visit_id", "d")
        .with_row_index("_row")
        .group_by("analyte", "visit_id", maintain_order=True)
        .agg("_row", "d")
    )
    keys = groups.select("analyte", "visit_id").rows()
    if not keys:
        return []  # np.split would make one empty group of no rows
    cuts = np.cumsum(groups["d"].list.len().to_numpy())[:-1]
    rows = np.split(groups["_row"].explode().to_numpy().astype(np.int64), cuts)
    d = np.split(groups["d"].explode().to_numpy(), cuts)
    # NumPy sorting releases the GIL: the groups are sorted in parallel
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(_ranked, rows, d, keys))


def _sorted_median(x: np.ndarray) -> float | None:
    """np.median of ascending values without NaN: the middle value, or the mean (a + b) / 2 of
    the middle two as np.median computes it."""
    n = len(x)
    if n == 0:
        return None
    return float(x[n // 2]) if n % 2 else float((x[n // 2 - 1] + x[n // 2]) / 2)


def _split_row(g: RankedChanges, inside_flag: np.ndarray) -> dict:
    """Counts, medians and rank sum of members / non-members of one group; the test itself
    only where the vectorized normal approximation does not apply."""
    inside, outside = g.d[inside_flag], g.d[~inside_flag]
    n1, n2 = len(inside), len(outside)
    row = {"analyte": g.analyte, "visit_id": g.visit_id, "n_in": n1, "n_out": n2}
    normal = not g.has_nan and n1 > 0 and n2 > 0 and g.d[-1] - g.d[0] != 0  # np.ptp as mann_whitney
    if normal and not uses_exact(n1, n2, g.ties):
        row["_r1"] = float(g.ranks[inside_flag].sum())  # half-integers: exact in any order
        res = None
    else:
        res = mann_whitney(inside, outside)
        row["n_in"], row["n_out"] = res.n1, res.n2  # without NaN changes
    if g.has_nan:
        row["median_change_in"] = float(np.median(inside)) if n1 else None
        row["median_change_out"] = float(np.median(outside)) if n2 else None
    else:
        row["median_change_in"] = _sorted_median(inside)
        row["median_change_out"] = _sorted_median(outside)
    row["_res"] = res
    return row


def compare_members(
    ranked: list[RankedChanges], member: np.ndarray, analytes: list[str], subgroup: str
) -> list[dict]:
    """Mann-Whitney of members (member[row of pairs]) against non-members in each ranked group
    of the given analytes: result rows as change_between_groups reports them."""
    chosen = [g for g in ranked if g.analyte in set(analytes)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # one step per group
        rows = list(pool.map(lambda g: _split_row(g, member[g.rows]), chosen))
    fast = [i for i, r in enumerate(rows) if r["_res"] is None]
    if fast:
        u1, p = mann_whitney_normal(
            np.array([rows[i]["_r1"] for i in fast]),
            np.array([rows[i]["n_in"] for i in fast]),
            np.array([rows[i]["n_out"] for i in fast]),
            np.array([chosen[i].tie_term for i in fast]),
        )
        for i, u, q in zip(fast, u1.tolist(), p.tolist(), strict=True):
            rows[i]["_res"] = GroupComparison(METHOD_MWU, rows[i]["n_in"], rows[i]["n_out"], u, q)
    return [_result_row(subgroup, r) for r in rows]


def _result_row(subgroup: str, r: dict) -> dict:
    res = r["_res"]
    return {
        "subgroup": subgroup,
        "analyte": r["analyte"],
        "visit_id": r["visit_id"],
        "n_in": r["n_in"],
        "n_out": r["n_out"],
        "median_change_in": r["median_change_in"],
        "median_change_out": r["median_change_out"],
        "method": res.method,
        "statistic": res.statistic,
        "p_value": res.p_value,
        "reason": res.reason,
    }


def change_between_groups(
    study: StudyData, values: pl.DataFrame, plan: AnalysisPlan, pairs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Change from baseline, members against non-members (Mann-Whitney), per subgroup, tied
    outcome and follow-up visit; the sex subgroups compare men with women. `pairs`: the output
    of pair_with_baseline(values, plan.baseline_visit) if the caller has it already.

    The ranks of d in a group do not depend on the subgroup: each group is ranked once, and
    each subgroup only sums its members' ranks."""
    if pairs is None:
        pairs = pair_with_baseline(values, plan.baseline_visit)
    compared = [s for s in plan.subgroups if not (s.kind == "sex" and s.sex == "F")]
    # men vs women is already compared under the men subgroup
    tied = {s.id: [o.analyte for o in plan.outcomes if o.subgroup == s.id] for s in compared}
    wanted = {a for s in compared for a in (tied[s.id] or plan.analytes)}
    pairs = pairs.filter(pl.col("analyte").is_in(sorted(wanted)))
    ranked = rank_changes(pairs)
    rows = []
    for sub in compared:
        ids = members(study, values, sub).implode()
        member = pairs["participant_id"].is_in(ids).fill_null(False).to_numpy()
        rows += compare_members(ranked, member, tied[sub.id] or plan.analytes, sub.id)
    if not rows:
        return pl.DataFrame()
    order = {  # subgroups in plan order, then analytes and visits in plan order
        "subgroup": {s.id: i for i, s in enumerate(compared)},
        "analyte": {a: i for i, a in enumerate(plan.analytes)},
        "visit_id": {v: i for i, v in enumerate(plan.visits)},
    }
    out = pl.DataFrame(rows, infer_schema_length=None)
    rank = [pl.col(c).replace_strict(o, default=len(o)) for c, o in order.items()]
    return out.sort(rank, maintain_order=True)


def completers(study: StudyData, values: pl.DataFrame, plan: AnalysisPlan) -> pl.DataFrame:
    """Completers (a value at the last scheduled visit) against non-completers at baseline:
    counts, medians and Mann-Whitney for age and each outcome; Fisher's exact test for sex."""
    last = plan.visits[-1] if plan.visits else ""
    values = as_keys(values)
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
