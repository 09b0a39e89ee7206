"""The subject-level SDTM domains of a study: DM, EX, LB, VS, AE, CM and SV, one Polars frame
each, every variable of variables.yaml present (empty where the study does not hold it)."""

from __future__ import annotations

import polars as pl

from celltrial.clinical.analytes import ANALYTES
from celltrial.data.study import StudyData
from celltrial.exchange.sdtm.metadata import terminology, variables
from celltrial.exchange.sdtm.study_day import iso_date, iso_datetime, planned_day, study_day
from celltrial.protocol.model import Protocol

# The treatment as EXTRT names it; the dose form of a cell suspension for infusion.
TREATMENT = "UC-MSC"
DOSE_FORM = "INJECTION, SUSPENSION"
# Protocol route literals as CDISC ROUTE terms.
ROUTES = {
    "IV": "INTRAVENOUS",
    "intra-arterial": "INTRA-ARTERIAL",
    "subcutaneous": "SUBCUTANEOUS",
    "intrapancreatic": "INTRAPANCREATIC",
}
# CellTrial's AE outcome words as CDISC OUT terms (lower-cased on lookup).
OUTCOMES = {
    "recovered": "RECOVERED/RESOLVED",
    "resolved": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "resolving": "RECOVERING/RESOLVING",
    "not recovered": "NOT RECOVERED/NOT RESOLVED",
    "not resolved": "NOT RECOVERED/NOT RESOLVED",
    "ongoing": "NOT RECOVERED/NOT RESOLVED",
    "recovered with sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "death": "FATAL",
    "unknown": "UNKNOWN",
}
NOT_TREATED = ("NOTTRT", "Not Treated")  # SDTMIG 3.4 section 5.2 (DM), ACTARMCD/ACTARM


def conform(dataset: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The dataset's variables in their order and types: Char as text, Num as float."""
    cols = []
    for v in variables()[dataset]:
        dtype = pl.Utf8 if v.type == "Char" else pl.Float64
        present = v.name in frame.columns
        cols.append(pl.col(v.name).cast(dtype) if present else pl.lit(None, dtype).alias(v.name))
    return frame.select(cols)


def arm_code(arm: pl.Expr) -> pl.Expr:
    """ARMCD from the arm's name: letters and digits upper-cased, 20 characters at most
    (SDTMIG 3.4: ARMCD is limited to 20 characters)."""
    return arm.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "").str.slice(0, 20)


def references(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    """participant_id, USUBJID and the reference dates: RFSTDTC is the protocol's day 0 (the
    first infusion, or enrolment when the protocol anchors on it or nothing was infused)."""
    first_last = study.infusions.group_by("participant_id").agg(
        pl.col("start_time").min().alias("_first"), pl.col("start_time").max().alias("_last")
    )
    last_visit = study.visits.group_by("participant_id").agg(
        pl.col("actual_date").max().alias("_last_visit")
    )
    p = study.participants.join(first_last, on="participant_id", how="left").join(
        last_visit, on="participant_id", how="left"
    )
    enrolled = pl.col("enrollment_date").cast(pl.Datetime("us"))
    start = enrolled if protocol.anchor == "enrollment" else pl.coalesce("_first", enrolled)
    end = pl.max_horizontal(
        pl.col("_last_visit").cast(pl.Datetime("us")),
        pl.col("withdrawal_date").cast(pl.Datetime("us")),
        pl.col("_last"),
    )
    return p.with_columns(
        (pl.lit(study.meta.study_id) + "-" + pl.col("participant_id")).alias("USUBJID"),
        start.alias("_ref"),
        end.alias("_end"),
    )


def _completed_years(birth: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Age in completed years at a date: year difference, less one before the birthday."""
    before_birthday = (on.dt.month() < birth.dt.month()) | (
        (on.dt.month() == birth.dt.month()) & (on.dt.day() < birth.dt.day())
    )
    return on.dt.year() - birth.dt.year() - before_birthday.cast(pl.Int32)


def dm(study: StudyData, refs: pl.DataFrame, country: str | None) -> pl.DataFrame:
    arm = pl.col("arm").fill_null(TREATMENT)
    treated = pl.col("_first").is_not_null()
    frame = refs.with_columns(
        _study_id(study),
        pl.col("participant_id").alias("SUBJID"),
        iso_datetime(pl.col("_ref")).alias("RFSTDTC"),
        iso_datetime(pl.col("_end")).alias("RFENDTC"),
        iso_datetime(pl.col("_first")).alias("RFXSTDTC"),
        iso_datetime(pl.col("_last")).alias("RFXENDTC"),
        pl.col("site_id").alias("SITEID"),
        iso_date(pl.col("birth_date")).alias("BRTHDTC"),
        pl.coalesce(
            _completed_years(pl.col("birth_date"), pl.col("_ref").dt.date()), pl.col("age")
        ).alias("AGE"),
        pl.lit("YEARS").alias("AGEU"),
        pl.col("sex").alias("SEX"),
        arm_code(arm).alias("ARMCD"),
        arm.alias("ARM"),
        pl.when(treated).then(arm_code(arm)).otherwise(pl.lit(NOT_TREATED[0])).alias("ACTARMCD"),
        pl.when(treated).then(arm).otherwise(pl.lit(NOT_TREATED[1])).alias("ACTARM"),
        pl.lit(country).alias("COUNTRY"),
    )
    return _with_study(frame, "DM")


def _with_study(frame: pl.DataFrame, domain: str) -> pl.DataFrame:
    return conform(domain, frame.with_columns(pl.lit(domain).alias("DOMAIN")))


def _sequenced(frame: pl.DataFrame, domain: str, *order: str) -> pl.DataFrame:
    """--SEQ: 1, 2, ... within each USUBJID, in the given order."""
    frame = frame.sort("USUBJID", *order, nulls_last=True)
    seq = pl.int_range(pl.len()).over("USUBJID") + 1
    return frame.with_columns(seq.cast(pl.Float64).alias(f"{domain}SEQ"))


def _refs_of(refs: pl.DataFrame) -> pl.DataFrame:
    return refs.select("participant_id", "USUBJID", "_ref")


def _study_id(study: StudyData) -> pl.Expr:
    return pl.lit(study.meta.study_id).alias("STUDYID")


def _subject_rows(study: StudyData, table: pl.DataFrame, refs: pl.DataFrame) -> pl.DataFrame:
    """A table's rows of participants in DM, with STUDYID, USUBJID and the reference date."""
    return table.join(_refs_of(refs), on="participant_id", how="inner").with_columns(
        _study_id(study)
    )


def ex(study: StudyData, refs: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    per_kg = pl.col("dose_cells_per_kg").is_not_null()
    frame = _subject_rows(study, study.infusions, refs).with_columns(
        pl.col("infusion_id").alias("EXSPID"),
        pl.lit(TREATMENT).alias("EXTRT"),
        # 10^6 cells/kg as the protocols dose (Lian 2022: 1 x 10^6 cells/kg); total cells when
        # no weight was recorded
        pl.when(per_kg)
        .then(pl.col("dose_cells_per_kg") / 1e6)
        .otherwise(pl.col("dose_cells") / 1e6)
        .alias("EXDOSE"),
        pl.when(per_kg)
        .then(pl.lit("10^6 cells/kg"))
        .otherwise(pl.lit("10^6 cells"))
        .alias("EXDOSU"),
        pl.lit(DOSE_FORM).alias("EXDOSFRM"),
        pl.col("route").fill_null(protocol.dosing.route).replace(ROUTES).alias("EXROUTE"),
        pl.col("lot_id").alias("EXLOT"),
        iso_datetime(pl.col("start_time")).alias("EXSTDTC"),
        iso_datetime(pl.col("start_time")).alias("EXENDTC"),
        study_day(pl.col("start_time"), pl.col("_ref")).alias("EXSTDY"),
        study_day(pl.col("start_time"), pl.col("_ref")).alias("EXENDY"),
    )
    return _with_study(_sequenced(frame, "EX", "start_time"), "EX")


def _findings(
    study: StudyData, refs: pl.DataFrame, protocol: Protocol, domain: str
) -> pl.DataFrame:
    """LB or VS: collected (not derived) measurements of the analytes mapped to the domain."""
    ct = terminology()
    mapped = {a: t for a, t in ct.analytes.items() if t.domain == domain}
    visits = {v.id: (i + 1, v.label or v.id) for i, v in enumerate(protocol.visits)}
    m = study.measurements.filter(
        pl.col("analyte").is_in(list(mapped)) & (pl.col("source").fill_null("") != "derived")
    )
    testcd = pl.col("analyte").replace_strict({a: t.testcd for a, t in mapped.items()})
    fasting = pl.col("analyte").replace_strict(
        {a: t.fasting for a, t in mapped.items()}, return_dtype=pl.Utf8
    )
    standard = pl.col("unit").replace_strict(
        {a.unit: ct.cdisc_unit(a.unit) for a in ANALYTES.values()}, default=pl.col("unit")
    )
    entered_unit = pl.coalesce("unit_as_entered", "unit")
    p = domain
    frame = _subject_rows(study, m, refs).with_columns(
        testcd.alias(f"{p}TESTCD"),
        testcd.replace_strict(ct.tests[domain]).alias(f"{p}TEST"),
        pl.col("analyte")
        .replace_strict({a: ANALYTES[a].loinc or None for a in mapped}, return_dtype=pl.Utf8)
        .alias(f"{p}LOINC"),
        pl.coalesce("value_as_entered", pl.col("value").cast(pl.Utf8)).alias(f"{p}ORRES"),
        entered_unit.replace(ct.units).alias(f"{p}ORRESU"),
        pl.col("value").cast(pl.Utf8).alias(f"{p}STRESC"),
        pl.col("value").alias(f"{p}STRESN"),
        standard.alias(f"{p}STRESU"),
        pl.coalesce(
            pl.col("fasting").replace_strict({True: "Y", False: "N"}, return_dtype=pl.Utf8),
            fasting,
        ).alias(f"{p}FAST"),
        pl.col("visit_id")
        .replace_strict(
            {k: float(n) for k, (n, _) in visits.items()}, default=None, return_dtype=pl.Float64
        )
        .alias("VISITNUM"),
        pl.col("visit_id")
        .replace_strict(
            {k: label for k, (_, label) in visits.items()}, default=None, return_dtype=pl.Utf8
        )
        .alias("VISIT"),
        iso_datetime(pl.col("time")).alias(f"{p}DTC"),
        study_day(pl.col("time"), pl.col("_ref")).alias(f"{p}DY"),
        pl.col("analyte")
        .replace_strict({a: t.tpt for a, t in mapped.items()}, return_dtype=pl.Utf8)
        .alias(f"{p}TPT"),
    )
    return _with_study(_sequenced(frame, p, "time", f"{p}TESTCD", f"{p}TPT"), p)


def lb(study: StudyData, refs: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    return _findings(study, refs, protocol, "LB")


def vs(study: StudyData, refs: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    return _findings(study, refs, protocol, "VS")


def ae(study: StudyData, refs: pl.DataFrame) -> pl.DataFrame:
    frame = _subject_rows(study, study.adverse_events, refs).with_columns(
        pl.col("ae_id").alias("AESPID"),
        pl.col("term").alias("AETERM"),
        # not coded to MedDRA: the reported term stands in the dictionary term's place
        pl.col("term").str.strip_chars().str.to_uppercase().alias("AEDECOD"),
        pl.col("serious")
        .replace_strict({True: "Y", False: "N"}, return_dtype=pl.Utf8)
        .alias("AESER"),
        pl.col("related").str.to_uppercase().alias("AEREL"),
        pl.col("outcome")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(OUTCOMES, default=pl.col("outcome"))
        .alias("AEOUT"),
        pl.col("grade").cast(pl.Utf8).alias("AETOXGR"),
        iso_datetime(pl.col("onset_time")).alias("AESTDTC"),
        iso_datetime(pl.col("end_time")).alias("AEENDTC"),
        study_day(pl.col("onset_time"), pl.col("_ref")).alias("AESTDY"),
        study_day(pl.col("end_time"), pl.col("_ref")).alias("AEENDY"),
    )
    return _with_study(_sequenced(frame, "AE", "onset_time", "ae_id"), "AE")


def cm(study: StudyData, refs: pl.DataFrame) -> pl.DataFrame:
    frame = _subject_rows(study, study.medications, refs).with_columns(
        pl.col("drug").alias("CMTRT"),
        pl.col("atc_code").alias("CMCLASCD"),
        pl.col("dose_unit").alias("CMDOSU"),
        pl.col("daily_dose").alias("CMDOSTOT"),
        iso_date(pl.col("start_date")).alias("CMSTDTC"),
        # end_date is the last day the drug was taken, as CMENDTC means it
        iso_date(pl.col("end_date")).alias("CMENDTC"),
        study_day(pl.col("start_date").cast(pl.Datetime("us")), pl.col("_ref")).alias("CMSTDY"),
        study_day(pl.col("end_date").cast(pl.Datetime("us")), pl.col("_ref")).alias("CMENDY"),
    )
    return _with_study(_sequenced(frame, "CM", "start_date", "drug"), "CM")


def sv(study: StudyData, refs: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    order = {v.id: float(i + 1) for i, v in enumerate(protocol.visits)}
    labels = {v.id: v.label or v.id for v in protocol.visits}
    planned = {v.id: float(planned_day(v.target_day)) for v in protocol.visits}
    done = study.visits.filter(pl.col("actual_date").is_not_null())
    frame = _subject_rows(study, done, refs).with_columns(
        pl.col("visit_id")
        .replace_strict(order, default=None, return_dtype=pl.Float64)
        .alias("VISITNUM"),
        pl.col("visit_id")
        .replace_strict(labels, default=pl.col("visit_id"), return_dtype=pl.Utf8)
        .alias("VISIT"),
        pl.col("visit_id")
        .replace_strict(planned, default=None, return_dtype=pl.Float64)
        .alias("VISITDY"),
        iso_date(pl.col("actual_date")).alias("SVSTDTC"),
        iso_date(pl.col("actual_date")).alias("SVENDTC"),
        study_day(pl.col("actual_date").cast(pl.Datetime("us")), pl.col("_ref")).alias("SVSTDY"),
        study_day(pl.col("actual_date").cast(pl.Datetime("us")), pl.col("_ref")).alias("SVENDY"),
        pl.when(~pl.col("visit_id").is_in(list(order))).then(pl.col("visit_id")).alias("SVUPDES"),
    )
    return _with_study(frame.sort("USUBJID", "actual_date"), "SV")
