"""The eight StudyData tables of ../shared/DESIGN.md: columns, types, keys and which
columns must be filled. One schema, used by readers, writers, validation, the simulator
and the registry."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    required: bool = False  # a value must be present in every row
    description: str = ""


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


S, F, INT, B = pl.Utf8(), pl.Float64(), pl.Int64(), pl.Boolean()
D, T = pl.Date(), pl.Datetime("us")

PARTICIPANTS = TableSchema(
    "participants",
    (
        Column("participant_id", S, True),
        Column("site_id", S, True),
        Column("sex", S, True, "M or F"),
        Column("birth_date", D),
        Column("age", F, description="age in years at enrolment, when birth_date is unknown"),
        Column("enrollment_date", D, True),
        Column("diabetes_duration_years", F),
        Column("height_cm", F),
        Column("arm", S),
        Column("status", S, description="screening, enrolled, completed, withdrawn"),
        Column("withdrawal_date", D),
        Column("withdrawal_reason", S),
    ),
    key=("participant_id",),
)

SCREENING = TableSchema(
    "screening",
    (
        Column("participant_id", S, True),
        Column("criterion_id", S, True),
        Column("met", B, description="empty when not yet answered"),
        Column("value", S),
        Column("reason", S),
    ),
    key=("participant_id", "criterion_id"),
)

LOTS = TableSchema(
    "lots",
    (
        Column("lot_id", S, True),
        Column("donor_id", S),
        Column("source_tissue", S, description="e.g. umbilical cord Wharton's jelly"),
        Column("passage", INT),
        Column("cells_per_unit", F, description="viable cells in one bag or vial"),
        Column("volume_ml", F, description="volume of one bag or vial"),
        Column("viability_pct", F),
        Column("plastic_adherent", B),
        Column("cd73_pct", F),
        Column("cd90_pct", F),
        Column("cd105_pct", F),
        Column("cd45_pct", F),
        Column("cd34_pct", F),
        Column("cd14_cd11b_pct", F),
        Column("cd79a_cd19_pct", F),
        Column("hla_dr_pct", F),
        Column("sterility", S, description="pass or fail"),
        Column("endotoxin_eu_ml", F),
        Column("mycoplasma", S, description="negative or positive"),
        Column("manufacture_date", D),
        Column("expiry_date", D),
        Column("storage", S),
        Column("release_status", S, True, "released, quarantine, rejected"),
    ),
    key=("lot_id",),
)

INFUSIONS = TableSchema(
    "infusions",
    (
        Column("infusion_id", S, True),
        Column("participant_id", S, True),
        Column("lot_id", S, True),
        Column("infusion_number", INT, description="1 for the first infusion of a participant"),
        Column("start_time", T, True),
        Column("dose_cells", F, True),
        Column("weight_kg", F),
        Column("dose_cells_per_kg", F),
        Column("route", S, description="IV unless stated"),
    ),
    key=("infusion_id",),
)

VISITS = TableSchema(
    "visits",
    (
        Column("participant_id", S, True),
        Column("visit_id", S, True),
        Column("target_day", INT),
        Column("actual_date", D),
        Column("study_day", INT),
        Column("in_window", B),
    ),
    key=("participant_id", "visit_id"),
)

MEASUREMENTS = TableSchema(
    "measurements",
    (
        Column("participant_id", S, True),
        Column("visit_id", S, description="empty for unscheduled values"),
        Column("time", T, True),
        Column("analyte", S, True),
        Column("value", F, True, "in the analyte's canonical unit"),
        Column("unit", S, True, "the analyte's canonical unit"),
        Column("value_as_entered", S),
        Column("unit_as_entered", S),
        Column("fasting", B),
        Column("source", S, description="lab, smbg, derived, simulated, import"),
    ),
    key=("participant_id", "analyte", "time"),
)

MEDICATIONS = TableSchema(
    "medications",
    (
        Column("participant_id", S, True),
        Column("drug", S, True),
        Column("atc_code", S),
        Column("daily_dose", F),
        Column("dose_unit", S, description="mg, U (insulin) ..."),
        Column("start_date", D, True),
        Column(
            "end_date",
            D,
            description="last day taken (inclusive: CDISC CMENDTC); empty while ongoing",
        ),
    ),
    key=("participant_id", "drug", "start_date"),
)

ADVERSE_EVENTS = TableSchema(
    "adverse_events",
    (
        Column("participant_id", S, True),
        Column("ae_id", S, True),
        Column("term", S, True),
        Column("onset_time", T, True),
        Column("end_time", T),
        Column("grade", INT, description="CTCAE grade 1 to 5"),
        Column("serious", B),
        Column("related", S, description="related, possibly, unlikely, not related"),
        Column("infusion_id", S),
        Column("outcome", S),
    ),
    key=("ae_id",),
)

TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        PARTICIPANTS,
        SCREENING,
        LOTS,
        INFUSIONS,
        VISITS,
        MEASUREMENTS,
        MEDICATIONS,
        ADVERSE_EVENTS,
    )
}


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=TABLES[table].polars_schema)
