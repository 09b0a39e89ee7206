"""analyze_study: every analysis of the issue, from any StudyData, as one Results value."""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import polars as pl

from celltrial.analysis.baseline import baseline_table
from celltrial.analysis.derived import BASELINE_EXTRAS
from celltrial.analysis.descriptive import change_summaries, summarize_per_visit
from celltrial.analysis.follow_up import extension_visit_ids, follow_up_summary
from celltrial.analysis.holm import holm
from celltrial.analysis.medication import (
    category_counts,
    change_from_baseline,
    dose_summary,
    doses_at_visits,
)
from celltrial.analysis.methods import methods, versions
from celltrial.analysis.missing import missing_tables
from celltrial.analysis.mixed import mixed_models
from celltrial.analysis.paired import METHOD_T, compare_with_baseline, pair_with_baseline
from celltrial.analysis.plan import (
    AnalysisPlan,
    plan_from_protocol,
    plan_from_study,
    with_observed_visits,
)
from celltrial.analysis.ranking import RankTests, check_rank_tests
from celltrial.analysis.results import Results
from celltrial.analysis.safety import adverse_event_tables
from celltrial.analysis.subgroups import (
    change_between_groups,
    completers,
    subgroup_comparisons,
    subgroup_membership,
)
from celltrial.analysis.values import visit_values
from celltrial.data.findings import Check, enforce
from celltrial.data.study import StudyData
from celltrial.protocol import Protocol, load_protocol
from celltrial.protocol.conformance import study_findings


def resolve_protocol(study: StudyData, protocol: Any = None) -> Protocol | None:
    """A Protocol object, a shipped protocol name or a path, the study's own protocol, or none."""
    if protocol is None and study.meta.protocol:
        protocol = study.meta.protocol
    return load_protocol(protocol) if isinstance(protocol, str) else protocol


def resolve_plan(study: StudyData, protocol: Any = None) -> AnalysisPlan:
    """The analysis plan of resolve_protocol's protocol, or of the study's own data."""
    protocol = resolve_protocol(study, protocol)
    return plan_from_protocol(protocol) if protocol is not None else plan_from_study(study)


def _filter_to_outcome_visits(frame: pl.DataFrame, plan: AnalysisPlan) -> pl.DataFrame:
    keep = pl.DataFrame(
        {
            "analyte": [o.analyte for o in plan.outcomes for _ in o.visits],
            "visit_id": [v for o in plan.outcomes for v in o.visits],
        },
        schema={"analyte": pl.Utf8, "visit_id": pl.Utf8},
    )
    return frame.join(keep, on=["analyte", "visit_id"], how="semi", maintain_order="left")


def _holm_over_scheduled(paired: pl.DataFrame) -> pl.DataFrame:
    """Holm again over the visits each outcome is scheduled at: the tests were run over every
    visit, and a visit outside the outcome's schedule must not enlarge its family."""
    family = (pl.col("method") == METHOD_T).alias("_t")
    fam = paired.with_columns(family)
    return paired.with_columns(holm(fam, ["subgroup", "analyte", "_t"]))


def analyze_study(
    study: StudyData,
    protocol: Any = None,
    rank_tests: RankTests | None = None,
    *,
    check: Check = "raise",
) -> Results:
    """Run every analysis on `study` under `protocol` (object, name, path or None).

    The study is first checked as `celltrial validate` checks it (its data and the
    protocol): with check="raise" a study with errors is refused with InvalidStudyError and
    warnings are issued as StudyWarning; "warn" issues both as warnings and analyses; "skip"
    does not check (the caller did). `rank_tests`: "spss" or "exact", the P-value
    convention of the Wilcoxon and Mann-Whitney tests (celltrial.analysis.ranking; default
    the plan's, "spss")."""
    protocol = resolve_protocol(study, protocol)
    if check != "skip":
        enforce(study_findings(study, protocol), check, f"study {study.meta.study_id}")
    plan = resolve_plan(study, protocol)
    if rank_tests is not None:
        plan = replace(plan, rank_tests=check_rank_tests(rank_tests))
    visits, base = list(plan.visits), plan.baseline_visit
    # The analyses below depend on one another only through `values` (and `pairs`): they run
    # side by side in threads. Polars and NumPy release the GIL in their kernels, so on a
    # multi-core machine the NumPy-bound ones (mixed models, missing values) overlap the
    # Polars-bound ones (paired tests, medication). Each is a pure function of its inputs, so
    # the results are those of running them one after another.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        doses_f = pool.submit(doses_at_visits, study, visits)  # needs no values: start first
        safety_f = pool.submit(adverse_event_tables, study)
        # the follow-up's extension visits in the same pass as the paper's, then apart
        later = extension_visit_ids(protocol, plan)
        values = visit_values(study, replace(plan, visits=(*plan.visits, *later)))
        at_later = values.filter(pl.col("visit_id").is_in(later))
        values = values.filter(pl.col("visit_id").is_in(list(plan.visits))) if later else values
        analytes = plan.analytes
        grid = summarize_per_visit(values, analytes, visits)  # every analyte x visit, n = 0 kept
        plan = with_observed_visits(plan, grid.filter(pl.col("n") > 0))
        outcome_visits = [(o.analyte, list(o.visits)) for o in plan.outcomes]
        mixed_f = pool.submit(mixed_models, values, outcome_visits, base)
        missing_f = pool.submit(missing_tables, study.participants, values, plan)
        subgroup_f = pool.submit(subgroup_comparisons, study, values, plan)
        membership_f = pool.submit(subgroup_membership, study, values, plan)
        completers_f = pool.submit(completers, study, values, plan)
        summaries = _filter_to_outcome_visits(grid, plan)
        pairs = pair_with_baseline(values, base)  # made once, used by both paired analyses
        change_f = pool.submit(change_between_groups, study, values, plan, pairs)
        present = set(values["analyte"].unique().to_list())
        extras = [a for a in BASELINE_EXTRAS if a in present and a not in analytes]
        baseline_f = pool.submit(baseline_table, study, values, base, [*analytes, *extras])
        paired = _holm_over_scheduled(
            _filter_to_outcome_visits(
                compare_with_baseline(
                    values, base, visits, analytes, pairs=pairs, rank_tests=plan.rank_tests
                ),
                plan,
            )
        )
        changes_summary = _filter_to_outcome_visits(change_summaries(summaries, pairs, base), plan)
        doses = doses_f.result()
        changes = change_from_baseline(doses, base)
        safety = safety_f.result()
        missing_summary, missing_values = missing_f.result()
    meta = {
        "study_id": study.meta.study_id,
        "simulated": bool(study.meta.simulated),
        "simulator": study.meta.simulator,
        "protocol_id": plan.protocol_id,
        "baseline_visit_id": base,
        "visits": visits,
        "visit_days": plan.visit_days,
        "visit_labels": plan.visit_labels,
        "outcomes": analytes,
        "outcome_visits": {o.analyte: list(o.visits) for o in plan.outcomes},
        "visits_from_data": [o.analyte for o in plan.outcomes if o.visits_from_data],
        "primary_outcomes": [o.analyte for o in plan.outcomes if o.primary],
        "safety_labs": plan.safety_labs,
        "n_participants": study.participants.height,
        "rank_tests": plan.rank_tests,
        "methods": methods(plan.rank_tests),
        "software": versions(),
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return Results(
        meta=meta,
        baseline=baseline_f.result(),
        summaries=summaries,
        changes=changes_summary,
        paired=paired,
        subgroup_paired=subgroup_f.result(),
        subgroup_membership=membership_f.result(),
        subgroup_change=change_f.result(),
        completers=completers_f.result(),
        mixed=mixed_f.result(),
        medication_changes=changes,
        medication_categories=category_counts(changes, [v for v in visits if v != base]),
        medication_doses=dose_summary(doses, visits, base),
        ae_overall=safety.overall,
        ae_by_term=safety.by_term,
        ae_by_infusion=safety.by_infusion,
        ae_by_term_infusion=safety.by_term_infusion,
        ae_by_time=safety.by_time,
        ae_events=safety.events,
        missing_summary=missing_summary,
        missing_values=missing_values,
        values=values,
        follow_up=follow_up_summary(at_later, later),
    )
