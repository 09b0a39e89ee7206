"""The SDTM trial-design domains of a protocol: TA (arms and their elements), TV (planned
visits) and TS (trial summary parameters)."""

from __future__ import annotations

import polars as pl

from celltrial.data.study import StudyData
from celltrial.exchange.sdtm.metadata import SDTM_VERSION, SDTMIG_VERSION, terminology
from celltrial.exchange.sdtm.study_day import planned_day
from celltrial.exchange.sdtm.subject_domains import ROUTES, TREATMENT, arm_code, conform
from celltrial.protocol.model import AgeCriterion, Protocol

INDICATION = "Type 2 diabetes mellitus"
THERAPY = "Umbilical cord mesenchymal stem cells"
# Which codelist constrains each TS parameter's value (SDTMIG 3.4 Appendix C1, TS codes).
TS_CODELISTS = {
    "STYPE": "STYPE",
    "RANDOM": "NY",
    "TBLIND": "TBLIND",
    "TCNTRL": "TCNTRL",
    "SEXPOP": "SEXPOP",
    "ROUTE": "ROUTE",
    "DOSU": "UNIT",
}


def arms(study: StudyData) -> list[str]:
    """The arms the participants are in; a study that names none is one UC-MSC arm."""
    named = study.participants["arm"].drop_nulls().unique().sort().to_list()
    return named or [TREATMENT]


def _elements(protocol: Protocol, arm: str) -> list[tuple[str, str, str]]:
    """(ETCD, ELEMENT, EPOCH) in order: screening, run-in when the protocol has one, the
    infusions (placebo when the arm says so), follow-up."""
    placebo = "placebo" in arm.lower()
    steps = [("SCRN", "Screening", "SCREENING")]
    if protocol.run_in_days:
        steps.append(("RUNIN", f"Run-in ({protocol.run_in_days} days)", "RUN-IN"))
    n = protocol.dosing.n_infusions
    steps.append(
        ("PBO", f"Placebo x {n}", "TREATMENT")
        if placebo
        else ("UCMSC", f"UC-MSC x {n}", "TREATMENT")
    )
    steps.append(("FU", "Follow-up", "FOLLOW-UP"))
    return steps


def ta(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    rows = [
        {"ARM": arm, "TAETORD": float(i + 1), "ETCD": etcd, "ELEMENT": element, "EPOCH": epoch}
        for arm in arms(study)
        for i, (etcd, element, epoch) in enumerate(_elements(protocol, arm))
    ]
    frame = pl.DataFrame(rows).with_columns(
        pl.lit(study.meta.study_id).alias("STUDYID"),
        pl.lit("TA").alias("DOMAIN"),
        arm_code(pl.col("ARM")).alias("ARMCD"),
    )
    return conform("TA", frame)


def tv(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    anchor = "the first infusion" if protocol.anchor == "first_infusion" else "enrolment"
    rows = [
        {
            "VISITNUM": float(i + 1),
            "VISIT": v.label or v.id,
            "VISITDY": float(planned_day(v.target_day)),
            "TVSTRL": (
                f"Day {v.target_day} after {anchor} (day 0), from {v.window_before} days "
                f"before to {v.window_after} days after"
                # the centre's addition (lian2022's long-term follow-up), said as such
                + ("; extension of the published schedule" if v.extension else "")
            ),
        }
        for i, v in enumerate(protocol.visits)
    ]
    frame = pl.DataFrame(rows).with_columns(
        pl.lit(study.meta.study_id).alias("STUDYID"), pl.lit("TV").alias("DOMAIN")
    )
    return conform("TV", frame)


def _age_limits(protocol: Protocol) -> tuple[float | None, float | None]:
    ages = [c for c in protocol.eligibility if isinstance(c, AgeCriterion)]
    return (ages[0].min_years, ages[0].max_years) if ages else (None, None)


def _years(value: float | None) -> str | None:
    """An age limit as an ISO 8601 duration (P18Y)."""
    return None if value is None else f"P{value:g}Y"


def ts(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    randomized = protocol.design == "randomized_trial"
    dosing = protocol.dosing
    weight_based = dosing.mode == "weight_based" and dosing.cells_per_kg
    dose = dosing.cells_per_kg if weight_based else dosing.flat_target_cells
    age_min, age_max = _age_limits(protocol)
    n_arms = len(arms(study))
    values = {
        "TITLE": protocol.title,
        "STYPE": "OBSERVATIONAL" if protocol.design == "registry" else "INTERVENTIONAL",
        "INDIC": INDICATION,
        "TRT": THERAPY,
        "ROUTE": ROUTES[dosing.route],
        "RANDOM": "Y" if randomized else "N",
        "TBLIND": None if randomized else "OPEN LABEL",
        "TCNTRL": None if randomized else "NONE",
        "AGEMIN": _years(age_min),
        "AGEMAX": _years(age_max),
        "SEXPOP": "BOTH",
        "ACTSUB": str(study.participants.height),
        "NARMS": str(n_arms),
        # planned observation per subject, the long-term follow-up (extension visits) included
        "LENGTH": f"P{max(v.target_day for v in protocol.visits)}D",
        "DOSE": None if dose is None else f"{dose / 1e6:g}",
        "DOSU": "10^6 cells/kg" if weight_based else "10^6 cells",
        "SDTIGVER": SDTMIG_VERSION,
        "SDTMVER": SDTM_VERSION,
    }
    names = terminology().tests["TS"]
    rows = [
        {
            "TSSEQ": 1.0,
            "TSPARMCD": code,
            "TSPARM": names[code],
            "TSVAL": value,
            # a value the protocol does not state: the null flavour says so (ISO 21090 UNK)
            "TSVALNF": None if value is not None else "UNK",
        }
        for code, value in values.items()
    ]
    frame = pl.DataFrame(rows, schema_overrides={"TSVAL": pl.Utf8, "TSVALNF": pl.Utf8})
    frame = frame.with_columns(
        pl.lit(study.meta.study_id).alias("STUDYID"), pl.lit("TS").alias("DOMAIN")
    )
    return conform("TS", frame)
