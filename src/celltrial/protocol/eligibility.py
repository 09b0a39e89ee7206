"""Screening: every eligibility criterion of a protocol for every participant.

Each criterion's `text` is phrased as a requirement (exclusions as "No ..."), so status
"met" always means the participant passes it, "not_met" that it rules the participant
out, "unknown" that neither the data nor the investigator has answered it. A participant
is eligible only when every criterion is met. The screening table's `met` column follows
the same convention (True = passes), see docs/protocols.md.

Data rules are decided from StudyData; when the data cannot decide (no value recorded),
an answer in the screening table for the same criterion_id is used instead.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import polars as pl

from celltrial.clinical.derivations import age_on
from celltrial.clinical.drugs import atc_code_expr, atc_with_extensions, taken_between
from celltrial.data.study import StudyData
from celltrial.protocol.model import (
    AgeCriterion,
    ChecklistCriterion,
    MeasurementCriterion,
    MedicationCriterion,
    Protocol,
)

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
Vec = TypeVar("Vec", pl.Expr, np.ndarray)
_OUT = ("participant_id", "status", "reason", "value")
_PART = ("participant_id", "criterion_id", "kind", "_order", *_OUT[1:])  # one criterion's rows


@dataclass(frozen=True)
class ScreeningResult:
    criteria: pl.DataFrame  # participant_id, criterion_id, kind, status, reason, value
    participants: pl.DataFrame  # participant_id, eligible, n_met, n_not_met, n_unknown
    unmatched: list[str]  # criterion_ids in the screening table that the protocol lacks

    def eligible_ids(self) -> list[str]:
        return self.participants.filter("eligible")["participant_id"].to_list()


def screen(study: StudyData, protocol: Protocol) -> ScreeningResult:
    """Status of every criterion for every participant, and who is eligible."""
    first = study.infusions.group_by("participant_id").agg(
        pl.col("start_time").min().cast(pl.Date).alias("first_infusion")
    )
    people = study.participants.select(
        "participant_id", "birth_date", "age", "enrollment_date"
    ).join(first, on="participant_id", how="left")
    # Checklist criteria are answered only at screening: one frame for all of them (each
    # step on a frame costs a fixed time, which dominates screening one participant).
    checklist = [(order, c) for order, c in enumerate(protocol.eligibility) if _is_checklist(c)]
    parts = [_unanswered(checklist, people)] if checklist else []
    any_drug = any(isinstance(c, MedicationCriterion) for c in protocol.eligibility)
    meds = _medications_coded(study.medications, people) if any_drug else None
    for order, criterion in enumerate(protocol.eligibility):
        if not _is_checklist(criterion):
            decided = _decide(criterion, people, study, meds).with_columns(
                pl.lit(criterion.id).alias("criterion_id"),
                pl.lit(criterion.kind).alias("kind"),
                pl.lit(order, pl.Int64).alias("_order"),
            )
            parts.append(decided.select(_PART))
    schema = {"participant_id": pl.Utf8, "criterion_id": pl.Utf8, "kind": pl.Utf8}
    criteria = (
        _fallback_to_screening(pl.concat(parts, how="vertical_relaxed"), study.screening)
        if parts
        else pl.DataFrame(schema={**schema, "status": pl.Utf8, "reason": pl.Utf8})
    )
    if "_order" in criteria.columns:
        rank = people.with_row_index("_person").select("participant_id", "_person")
        criteria = (
            criteria.join(rank, on="participant_id").sort("_person", "_order").drop("_person")
        )
        criteria = criteria.select("participant_id", "criterion_id", "kind", *_OUT[1:])
    summary = people.select("participant_id").join(
        criteria.group_by("participant_id").agg(
            (pl.col("status") == MET).sum().alias("n_met"),
            (pl.col("status") == NOT_MET).sum().alias("n_not_met"),
            (pl.col("status") == UNKNOWN).sum().alias("n_unknown"),
        ),
        on="participant_id",
        how="left",
    )
    summary = summary.with_columns(pl.col("n_met", "n_not_met", "n_unknown").fill_null(0))
    summary = summary.with_columns(
        ((pl.col("n_not_met") == 0) & (pl.col("n_unknown") == 0)).alias("eligible")
    ).select("participant_id", "eligible", "n_met", "n_not_met", "n_unknown")
    known = {c.id for c in protocol.eligibility}
    unmatched = sorted(set(study.screening["criterion_id"].drop_nulls().to_list()) - known)
    return ScreeningResult(criteria, summary, unmatched)


def _is_checklist(criterion: object) -> bool:
    return isinstance(criterion, ChecklistCriterion)


def _unanswered(
    checklist: list[tuple[int, ChecklistCriterion]], people: pl.DataFrame
) -> pl.DataFrame:
    """Every checklist criterion for every participant, unknown until answered."""
    asked = pl.DataFrame(
        [(c.id, c.kind, order) for order, c in checklist],
        schema={"criterion_id": pl.Utf8, "kind": pl.Utf8, "_order": pl.Int64},
        orient="row",
    )
    return (
        people.select("participant_id")
        .join(asked, how="cross")
        .with_columns(
            pl.lit(UNKNOWN).alias("status"),
            pl.lit("not yet answered by the investigator").alias("reason"),
            pl.lit(None, pl.Utf8).alias("value"),
        )
        .select(_PART)
    )


def _decide(
    criterion: object, people: pl.DataFrame, study: StudyData, meds: pl.DataFrame | None
) -> pl.DataFrame:
    if isinstance(criterion, AgeCriterion):
        return _age(criterion, people)
    if isinstance(criterion, MeasurementCriterion):
        return _measurement(criterion, people, study.measurements)
    assert isinstance(criterion, MedicationCriterion) and meds is not None
    return _medication(criterion, people, meds)


def _status(ok: pl.Expr, known: pl.Expr) -> pl.Expr:
    met = pl.when(ok).then(pl.lit(MET)).otherwise(pl.lit(NOT_MET))
    return pl.when(~known).then(pl.lit(UNKNOWN)).otherwise(met)


def age_within(c: AgeCriterion, years: Vec) -> Vec:
    """The age rule on completed years: inclusive bounds. `years` is a Polars expression
    (screen) or a NumPy array (the simulator): one implementation for both."""
    lo = -np.inf if c.min_years is None else c.min_years
    hi = np.inf if c.max_years is None else c.max_years
    return (years >= lo) & (years <= hi)


def value_within(c: MeasurementCriterion, value: Vec) -> Vec:
    """The measurement rule: `min`/`max` inclusive, `below`/`above` strict. `value` is a
    Polars expression (screen) or a NumPy array (the simulator)."""
    tests = (
        (c.min, operator.ge),
        (c.max, operator.le),
        (c.below, operator.lt),
        (c.above, operator.gt),
    )
    parts = [test(value, bound) for bound, test in tests if bound is not None]
    return functools.reduce(operator.and_, parts)  # the model requires at least one bound


def _age(c: AgeCriterion, people: pl.DataFrame) -> pl.DataFrame:
    on = pl.col("enrollment_date") if c.at == "enrollment" else pl.col("first_infusion")
    # completed years on the day of the rule (celltrial.clinical.derivations.age_on)
    age = pl.when(on.is_null()).then(None).otherwise(age_on(on))
    ok = age_within(c, age)
    lo = "" if c.min_years is None else f"{c.min_years:g}"
    hi = "" if c.max_years is None else f"{c.max_years:g}"
    rule = f"required {lo}..{hi} years inclusive"
    when = "enrolment" if c.at == "enrollment" else "first infusion"
    missing = (
        pl.when(on.is_null())
        .then(pl.lit(f"no {when} date recorded"))
        .otherwise(pl.lit("no birth_date or age recorded"))
    )
    return people.select(
        "participant_id",
        _status(ok, age.is_not_null()).alias("status"),
        pl.when(age.is_null())
        .then(missing)
        .otherwise(
            pl.format("age {} years at {}; {}", age.cast(pl.Int64), pl.lit(when), pl.lit(rule))
        )
        .alias("reason"),
        age.cast(pl.Int64).cast(pl.Utf8).alias("value"),
    )


def _rule_words(c: MeasurementCriterion) -> str:
    pairs = ((c.min, ">="), (c.max, "<="), (c.below, "<"), (c.above, ">"))
    return " and ".join(f"{word} {bound:g}" for bound, word in pairs if bound is not None)


def _measurement(
    c: MeasurementCriterion, people: pl.DataFrame, measurements: pl.DataFrame
) -> pl.DataFrame:
    day = (pl.col("time").cast(pl.Date) - pl.col("enrollment_date")).dt.total_days()
    latest = (
        measurements.filter(pl.col("analyte") == c.analyte)
        .join(people.select("participant_id", "enrollment_date"), on="participant_id")
        .filter(day.is_between(c.from_day, c.to_day))
        .sort("time")
        .group_by("participant_id")
        .agg(pl.col("value").last(), pl.col("time").last().cast(pl.Date).alias("on"))
    )
    ok, rule = value_within(c, pl.col("value")), _rule_words(c)
    window = f"day {c.from_day}..{c.to_day} of enrolment"
    return (
        people.select("participant_id")
        .join(latest, on="participant_id", how="left")
        .select(
            "participant_id",
            _status(ok, pl.col("value").is_not_null()).alias("status"),
            pl.when(pl.col("value").is_null())
            .then(pl.lit(f"no {c.analyte} measured {window}"))
            .otherwise(
                pl.format(
                    "{} {} {} on {}; required {} {}",
                    pl.lit(c.analyte),
                    pl.col("value").round(3),
                    pl.lit(c.unit),
                    pl.col("on"),
                    pl.lit(rule),
                    pl.lit(c.unit),
                )
            )
            .alias("reason"),
            pl.col("value").cast(pl.Utf8).alias("value"),
        )
    )


def _medications_coded(medications: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """The prescriptions with the enrolment date and _atc: the row's ATC code, else the
    catalogue's for its drug name; combination products and thiazide-like diuretics count
    with their group (celltrial.clinical.drugs, WHO ATC). Looked up once for every
    medication criterion (the catalogue lookup is the costly step)."""
    return medications.join(
        people.select("participant_id", "enrollment_date"), on="participant_id"
    ).with_columns(atc_code_expr().fill_null("").alias("_atc"))


def _medication(c: MedicationCriterion, people: pl.DataFrame, meds: pl.DataFrame) -> pl.DataFrame:
    """`meds`: _medications_coded()."""
    enrol = pl.col("enrollment_date")
    codes = pl.col("_atc")
    matches = pl.any_horizontal(
        [codes.str.starts_with(p) for p in atc_with_extensions(c.atc_prefixes)]
    )
    # A prescription counts when it was taken on some day in [enrolment - N days, enrolment]
    # (end_date is the last day taken: celltrial.clinical.drugs.taken_between).
    first = enrol - pl.duration(days=c.within_days)
    taken = taken_between(first, enrol)
    overlaps = taken.fill_null(False)
    # without a start date it may have been running: the data cannot decide
    undated = pl.col("start_date").is_null() & taken.is_null()
    named = pl.format("{} ({})", "drug", "atc_code").unique().sort().str.join(", ")
    hits = meds.filter(matches & overlaps).group_by("participant_id").agg(named.alias("hit"))
    unsure = meds.filter(matches & undated).group_by("participant_id").agg(named.alias("undated"))
    recorded = meds.select("participant_id").unique().with_columns(pl.lit(True).alias("any_med"))
    prefixes = ", ".join(c.atc_prefixes)
    known = pl.col("any_med").is_not_null() & (
        pl.col("hit").is_not_null() | pl.col("undated").is_null()
    )
    return (
        people.select("participant_id")
        .join(hits, on="participant_id", how="left")
        .join(unsure, on="participant_id", how="left")
        .join(recorded, on="participant_id", how="left")
        .select(
            "participant_id",
            _status(pl.col("hit").is_null(), known).alias("status"),
            pl.when(pl.col("hit").is_not_null())
            .then(
                pl.format("took {} within {} days before enrolment", "hit", pl.lit(c.within_days))
            )
            .when(pl.col("undated").is_not_null())
            .then(
                pl.format(
                    "{} has no start_date: cannot tell whether it ran within {} days before "
                    "enrolment",
                    "undated",
                    pl.lit(c.within_days),
                )
            )
            .when(pl.col("any_med").is_null())
            .then(pl.lit("no medication history recorded"))
            .otherwise(
                pl.lit(
                    f"no {prefixes} prescription (nor a combination product containing one) "
                    f"within {c.within_days} days"
                )
            )
            .alias("reason"),
            pl.coalesce("hit", "undated").alias("value"),
        )
    )


def _fallback_to_screening(decided: pl.DataFrame, screening: pl.DataFrame) -> pl.DataFrame:
    """A criterion the data left unknown takes the screening table's answer for it (the
    participant's last row for that criterion_id)."""
    answers = (
        screening.filter(pl.col("met").is_not_null())
        .select(
            "participant_id",
            "criterion_id",
            pl.col("met").alias("_met"),
            pl.col("reason").alias("_why"),
            pl.col("value").alias("_value"),
        )
        .unique(["participant_id", "criterion_id"], keep="last")
    )
    use = (pl.col("status") == UNKNOWN) & pl.col("_met").is_not_null()
    answered = pl.format("investigator: {}", pl.col("_why").fill_null("answered at screening"))
    return (
        decided.join(answers, on=["participant_id", "criterion_id"], how="left")
        .with_columns(
            pl.when(use)
            .then(pl.when(pl.col("_met")).then(pl.lit(MET)).otherwise(pl.lit(NOT_MET)))
            .otherwise(pl.col("status"))
            .alias("status"),
            pl.when(use).then(answered).otherwise(pl.col("reason")).alias("reason"),
            pl.when(use).then(pl.col("_value")).otherwise(pl.col("value")).alias("value"),
        )
        .select(_PART)
    )
