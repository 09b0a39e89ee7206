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
)
from celltrial.analysis.paired import compare_with_baseline, pair_with_baseline
from celltrial.analysis.plan import AnalysisPlan
from celltrial.analysis.ranking import DEFAULT_RANK_TESTS, RankTests, at_precision, exact_applies
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
                    inside,
                    plan.baseline_visit,
                    list(o.visits),
                    [o.analyte],
                    sub.id,
                    rank_tests=plan.rank_tests,
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
    """The changes d of one (analyte, visit) group, rounded to the analyte's reporting
    precision (ties as recorded) and sorted ascending, with their average ranks: shared by
    every split of the group into members and non-members."""

    analyte: str
    visit_id: str
    rows: np.ndarray  # row numbers in the pairs frame, in the order of d
    d: np.ndarray
    ranks: np.ndarray
    tie_term: float  # sum(t^3 - t) over runs of equal d
    ties: bool
    has_nan: bool  # NaN d: the group keeps SciPy's own NaN handling (mann_whitney)


def _ranked(rows: np.ndarray, d: np.ndarray, key: tuple[str, str]) -> RankedChanges:
    d = at_precision(d, key[0])
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


@dataclass(frozen=True)
class _Split:
    """One ranked group split into members and non-members: their changes (ascending, as
    g.d) and the members' rank sum."""

    inside: np.ndarray
    outside: np.ndarray
    r1: float  # sum of the members' ranks: half-integers, exact in any order


def _split(g: RankedChanges, inside_flag: np.ndarray) -> _Split:
    r1 = float(g.ranks[inside_flag].sum())
    return _Split(g.d[inside_flag], g.d[~inside_flag], r1)


def _median(x: np.ndarray, has_nan: bool) -> float | None:
    """np.median of one side; without NaN in the group, read off the sorted values."""
    if has_nan:
        return float(np.median(x)) if len(x) else None
    return _sorted_median(x)


def _tests(
    chosen: list[RankedChanges], splits: list[_Split], rank_tests: RankTests
) -> list[GroupComparison]:
    """Mann-Whitney of each split: the vectorized normal approximation from the rank sums
    wherever the convention takes it, mann_whitney (SciPy) elsewhere (exact, NaN, degenerate)."""
    n_in = np.array([len(s.inside) for s in splits], dtype=np.int64)
    n_out = np.array([len(s.outside) for s in splits], dtype=np.int64)
    has_nan = np.array([g.has_nan for g in chosen], dtype=bool)
    ties = np.array([g.ties for g in chosen], dtype=bool)
    lowest = np.array([g.d[0] for g in chosen], dtype=float)
    highest = np.array([g.d[-1] for g in chosen], dtype=float)
    with np.errstate(invalid="ignore"):  # np.ptp as mann_whitney: inf - inf is NaN, not 0
        spread = highest - lowest != 0
    exact = exact_applies(rank_tests, n_in + n_out, ties)
    normal = ~has_nan & (n_in > 0) & (n_out > 0) & spread & ~exact
    u1, p = mann_whitney_normal(
        np.array([s.r1 for s in splits], dtype=float)[normal],
        n_in[normal],
        n_out[normal],
        np.array([g.tie_term for g in chosen], dtype=float)[normal],
    )
    fast = zip(u1.tolist(), p.tolist(), strict=True)  # in order of the normal splits
    return [
        GroupComparison(METHOD_MWU, len(s.inside), len(s.outside), *next(fast))
        if use_normal
        else mann_whitney(s.inside, s.outside, rank_tests)  # n without NaN, as SciPy counts
        for s, use_normal in zip(splits, normal.tolist(), strict=True)
    ]


def compare_members(
    ranked: list[RankedChanges],
    member: np.ndarray,
    analytes: list[str],
    subgroup: str,
    rank_tests: RankTests = DEFAULT_RANK_TESTS,
) -> list[dict]:
    """Mann-Whitney of members (member[row of pairs]) against non-members in each ranked group
    of the given analytes: result rows as change_between_groups reports them. The medians are
    of the changes at the analyte's reporting precision, as ranked."""
    wanted = set(analytes)
    chosen = [g for g in ranked if g.analyte in wanted]
    # the gathers of large groups release the GIL: the groups are split in parallel
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        splits = list(pool.map(lambda g: _split(g, member[g.rows]), chosen))
    tests = _tests(chosen, splits, rank_tests)
    return [
        {
            "subgroup": subgroup,
            "analyte": g.analyte,
            "visit_id": g.visit_id,
            "n_in": res.n1,
            "n_out": res.n2,
            "median_change_in": _median(s.inside, g.has_nan),
            "median_change_out": _median(s.outside, g.has_nan),
            "method": res.method,
            "statistic": res.statistic,
            "p_value": res.p_value,
            "reason": res.reason,
        }
        for g, s, res in zip(chosen, splits, tests, strict=True)
    ]


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
        rows += compare_members(
            ranked, member, tied[sub.id] or plan.analytes, sub.id, plan.rank_tests
        )
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
        x = at_precision(v.filter(pl.col("completer"))["value"].drop_nulls().to_numpy(), variable)
        y = at_precision(v.filter(~pl.col("completer"))["value"].drop_nulls().to_numpy(), variable)
        r = mann_whitney(x, y, plan.rank_tests)
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
