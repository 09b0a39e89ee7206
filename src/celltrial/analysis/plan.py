"""What to analyse, taken from the protocol (or, without one, from the study's own tables)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from celltrial.analysis.ranking import DEFAULT_RANK_TESTS, RankTests
from celltrial.data.study import StudyData
from celltrial.protocol.model import AnalyteSubgroup, SexSubgroup

# Lian 2022 (World J Diabetes 13:877) Figure 3: leukocytes, ALT, creatinine, AFP, CEA, CA19-9.
SAFETY_LABS = ("leukocytes", "alt", "creatinine", "afp", "cea", "ca199")
# Chin 2025: elevated hs-CRP > 3 mg/L (Pearson TA, Circulation 2003;107:499, AHA/CDC high risk).
DEFAULT_HSCRP_THRESHOLD = 3.0


@dataclass(frozen=True)
class OutcomePlan:
    analyte: str
    visits: tuple[str, ...]
    primary: bool = False
    derived_from: tuple[str, ...] = ()
    subgroup: str | None = None
    # True when the protocol gives no visits list for the outcome (or there is no protocol):
    # it is then expected only at the visits where the study has any value of it
    visits_from_data: bool = False


@dataclass(frozen=True)
class AnalysisPlan:
    protocol_id: str | None
    visits: tuple[str, ...]  # in schedule order
    baseline_visit: str
    outcomes: tuple[OutcomePlan, ...]
    subgroups: tuple[Any, ...] = ()  # protocol subgroup models (analyte, ckd_stage, sex)
    visit_days: dict[str, int] = field(default_factory=dict)
    visit_labels: dict[str, str] = field(default_factory=dict)  # protocol labels, if any
    # P-values of the Wilcoxon and Mann-Whitney tests: "spss" or "exact" (analysis.ranking)
    rank_tests: RankTests = DEFAULT_RANK_TESTS

    @property
    def analytes(self) -> list[str]:
        return [o.analyte for o in self.outcomes]

    def outcome(self, analyte: str) -> OutcomePlan:
        return next(o for o in self.outcomes if o.analyte == analyte)

    @property
    def safety_labs(self) -> list[str]:
        return [a for a in SAFETY_LABS if a in self.analytes]


def plan_from_protocol(protocol: Any) -> AnalysisPlan:
    """The plan a celltrial.protocol.Protocol implies: its visits, baseline, outcomes, subgroups."""
    # the paper's schedule: extension visits (a centre's long-term follow-up) are not the
    # visits the paper's outcomes are analysed at
    visits = sorted(protocol.trial_visits, key=lambda v: v.target_day)
    ids = tuple(v.id for v in visits)
    outcomes = tuple(
        OutcomePlan(
            analyte=o.analyte,
            visits=tuple(o.visits) if o.visits else ids,
            primary=o.primary,
            derived_from=tuple(o.derived_from),
            subgroup=o.subgroup,
            visits_from_data=not o.visits,
        )
        for o in protocol.outcomes
    )
    return AnalysisPlan(
        protocol_id=protocol.id,
        visits=ids,
        baseline_visit=protocol.baseline_visit.id,
        outcomes=outcomes,
        subgroups=tuple(protocol.subgroups),
        visit_days={v.id: v.target_day for v in visits},
        visit_labels={v.id: v.label for v in visits if v.label},
    )


def plan_from_study(study: StudyData) -> AnalysisPlan:
    """Without a protocol: visits ordered by target day (else by name), the earliest is the
    baseline, and every analyte measured at a visit is an outcome."""
    visits = study.visits.filter(pl.col("visit_id").is_not_null())
    order = (
        visits.group_by("visit_id")
        .agg(pl.col("target_day").min())
        .sort("target_day", "visit_id", nulls_last=True)
    )
    ids = order["visit_id"].to_list()
    seen = study.measurements.filter(pl.col("visit_id").is_not_null())
    for v in seen["visit_id"].unique().sort().to_list():
        if v not in ids:
            ids.append(v)
    analytes = seen["analyte"].unique().sort().to_list()
    days = {r["visit_id"]: r["target_day"] for r in order.iter_rows(named=True)}
    base = ids[0] if ids else ""
    return AnalysisPlan(
        protocol_id=None,
        visits=tuple(ids),
        baseline_visit=base,
        outcomes=tuple(
            OutcomePlan(a, tuple(ids), subgroup=DEFAULT_TIES.get(a), visits_from_data=True)
            for a in analytes
        ),
        subgroups=default_subgroups(base),
        visit_days={k: v for k, v in days.items() if v is not None},
    )


def with_observed_visits(plan: AnalysisPlan, observed: pl.DataFrame) -> AnalysisPlan:
    """The plan with each outcome that has no visits list expected only at the visits where
    `observed` (analyte, visit_id: pairs with at least one value) has it, in schedule order.

    An outcome the study never measured keeps the baseline visit alone, so the tables still
    show it as missing there. Outcomes with an explicit visits list are left as they are.
    """
    seen: dict[str, set[str]] = {}
    for analyte, visit in observed.select("analyte", "visit_id").unique().iter_rows():
        seen.setdefault(analyte, set()).add(visit)  # one step per (analyte, visit) pair
    outcomes = tuple(
        replace(o, visits=_observed_or_baseline(o, seen.get(o.analyte, set()), plan))
        if o.visits_from_data
        else o
        for o in plan.outcomes
    )
    return replace(plan, outcomes=outcomes)


def _observed_or_baseline(o: OutcomePlan, seen: set[str], plan: AnalysisPlan) -> tuple[str, ...]:
    kept = tuple(v for v in o.visits if v in seen)
    return kept or (plan.baseline_visit,)


# Without a protocol, the Chin 2025 subgroups: which outcome each one is analysed for.
DEFAULT_TIES = {"hscrp": "hscrp_elevated", "testosterone": "men", "estradiol": "women"}


def default_subgroups(baseline: str) -> tuple[Any, ...]:
    """Elevated baseline hs-CRP (> 3 mg/L), men and women (Chin 2025 subgroups)."""
    return (
        AnalyteSubgroup(
            id="hscrp_elevated",
            label=f"Elevated baseline hs-CRP (> {DEFAULT_HSCRP_THRESHOLD:g} mg/L)",
            kind="analyte_threshold",
            analyte="hscrp",
            visit=baseline,
            comparison=">",
            threshold=DEFAULT_HSCRP_THRESHOLD,
            unit="mg/L",
            source="Chin 2025; Pearson TA, Circulation 2003;107:499",
        ),
        SexSubgroup(id="men", label="Men", kind="sex", sex="M"),
        SexSubgroup(id="women", label="Women", kind="sex", sex="F"),
    )
