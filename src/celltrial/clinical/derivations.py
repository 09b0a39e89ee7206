"""Derived quantities for whole studies, one function per quantity, table in and table out
(the shape of pharmaverse admiral's derive_param_* functions, https://pharmaverse.github.io/admiral/).

Each derive_* function reads the StudyData tables it names, computes with the one formula in
celltrial.clinical (homa.py, egfr.py, ...) on whole NumPy columns, and returns a Derived:
the table with the derived rows or columns added, and `skipped`, one row per value that could
not be derived with the reason (e.g. HOMA-B at FPG <= 3.5 mmol/L is undefined).

Pairing rule for two-input indices (HOMA): the first value by time of each input analyte per
participant and visit (unscheduled values, without visit_id, pair only at the same time);
a pair with an input marked fasting=false is skipped (HOMA needs fasting values).
Derived measurement rows carry source="derived", the analyte's canonical unit, the later of the
input times, and fasting true only when every input was fasting. Re-deriving replaces earlier
derived rows of the same analyte; values entered by hand (any other source) are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from celltrial.clinical.analytes import get_analyte
from celltrial.clinical.bmi import bmi
from celltrial.clinical.dosing import dose_cells_per_kg, insulin_u_per_kg
from celltrial.clinical.drugs import INSULIN_DOSE_UNITS, insulin_expr
from celltrial.clinical.egfr import CKD_STAGE_BREAKS, CKD_STAGES, MIN_AGE_YEARS, egfr_ckd_epi_2021
from celltrial.clinical.hba1c import eag_mmol_l, hba1c_ifcc
from celltrial.clinical.homa import homa1_b, homa1_ir, homa_cp_b, homa_cp_ir

if TYPE_CHECKING:
    from celltrial.data.study import StudyData

DERIVED_SOURCE = "derived"
SKIPPED_SCHEMA: dict[str, pl.DataType] = {
    "table": pl.Utf8(),
    "participant_id": pl.Utf8(),
    "visit_id": pl.Utf8(),
    "time": pl.Datetime("us"),
    "analyte": pl.Utf8(),
    "reason": pl.Utf8(),
}
_PAIR = "_pair"
_UNDEFINED_B = "FPG <= 3.5 mmol/L: the HOMA beta-cell index is undefined (division by FPG - 3.5)"
_NOT_A_NUMBER = "an input value is missing or not a number"
# Matthews 1985 and Lian 2022 define HOMA on fasting samples only.
_NOT_FASTING = "an input is marked fasting=false: HOMA is defined on fasting values only"


@dataclass(frozen=True)
class Derived:
    table: pl.DataFrame  # the input table with derived rows or columns added
    skipped: pl.DataFrame  # SKIPPED_SCHEMA: what could not be derived, and why


class MissingColumnsError(ValueError):
    def __init__(self, table: str, missing: list[str]) -> None:
        super().__init__(f"{table}: missing column(s) {', '.join(missing)} needed to derive")


def _require(frame: pl.DataFrame, table: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnsError(table, missing)


_MEASUREMENT_COLS = ("participant_id", "visit_id", "time", "analyte", "value", "fasting")


# ------------------------------------------------------------------ building blocks


def _skip(rows: pl.DataFrame, table: str, analyte: str, reason: str | pl.Expr) -> pl.DataFrame:
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    visit = pl.col("visit_id") if "visit_id" in rows.columns else pl.lit(None, pl.Utf8)
    return rows.select(
        pl.lit(table).alias("table"),
        pl.col("participant_id"),
        visit.alias("visit_id"),
        pl.col("time"),
        pl.lit(analyte).alias("analyte"),
        reason_expr.alias("reason"),
    ).cast(SKIPPED_SCHEMA)


def _empty_skipped() -> pl.DataFrame:
    return pl.DataFrame(schema=SKIPPED_SCHEMA)


def _first_values(measurements: pl.DataFrame, analyte: str) -> pl.DataFrame:
    """The first value by time of `analyte` per participant and visit (or time if unscheduled)."""
    return (
        measurements.filter(pl.col("analyte") == analyte)
        # unscheduled values (no visit_id) pair only with a value taken at the same time
        .with_columns(pl.when(pl.col("visit_id").is_null()).then(pl.col("time")).alias(_PAIR))
        .sort("time")
        .unique(["participant_id", "visit_id", _PAIR], keep="first")
        .select("participant_id", "visit_id", _PAIR, "time", "value", "fasting")
    )


def _paired(measurements: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """One row per participant and visit having both analytes: columns a, b, time, fasting."""
    _require(measurements, "measurements", _MEASUREMENT_COLS)
    left = _first_values(measurements, a).rename({"value": a, "time": "_ta", "fasting": "_fa"})
    right = _first_values(measurements, b).select(
        "participant_id",
        "visit_id",
        _PAIR,
        pl.col("value").alias(b),
        pl.col("time").alias("_tb"),
        pl.col("fasting").alias("_fb"),
    )
    keys = ["participant_id", "visit_id", _PAIR]
    joined = left.join(right, on=keys, how="inner", nulls_equal=True)
    return joined.with_columns(
        pl.max_horizontal("_ta", "_tb").alias("time"),
        pl.all_horizontal("_fa", "_fb").alias("fasting"),
    )


def _rows(base: pl.DataFrame, analyte: str, values: np.ndarray) -> pl.DataFrame:
    return base.select(
        "participant_id",
        "visit_id",
        "time",
        pl.lit(analyte).alias("analyte"),
        pl.Series("value", values, dtype=pl.Float64),
        pl.lit(get_analyte(analyte).unit).alias("unit"),
        pl.lit(None, pl.Utf8).alias("value_as_entered"),
        pl.lit(None, pl.Utf8).alias("unit_as_entered"),
        pl.col("fasting").cast(pl.Boolean),
        pl.lit(DERIVED_SOURCE).alias("source"),
    )


def _append(
    measurements: pl.DataFrame, new: list[pl.DataFrame], analytes: list[str]
) -> pl.DataFrame:
    """measurements without earlier derived rows of `analytes`, plus `new`, in its own schema."""
    earlier = pl.col("analyte").is_in(analytes) & pl.col("source").eq_missing(DERIVED_SOURCE)
    kept = measurements.filter(~earlier)
    out = pl.concat([kept, *new], how="diagonal_relaxed")
    return out.select([pl.col(c).cast(t) for c, t in measurements.schema.items()])


def _finish(
    measurements: pl.DataFrame,
    base: pl.DataFrame,
    outputs: Mapping[str, tuple[np.ndarray, str]],
    skipped: tuple[pl.DataFrame, ...] = (),
) -> Derived:
    """Add one derived analyte per entry of outputs (values aligned with base rows); NaN
    values go to skipped with the entry's reason."""
    new, skip = [], list(skipped)
    for analyte, (values, reason) in outputs.items():  # one step per derived analyte
        ok = pl.Series(~np.isnan(values))
        rows = _rows(base, analyte, values)
        new.append(rows.filter(ok))
        skip.append(_skip(base.filter(~ok), "measurements", analyte, reason))
    return Derived(_append(measurements, new, list(outputs)), pl.concat([_empty_skipped(), *skip]))


def _column(frame: pl.DataFrame, name: str) -> np.ndarray:
    return frame[name].cast(pl.Float64).to_numpy()


# ------------------------------------------------------------------ measurement derivations


def _fasting_pairs(
    measurements: pl.DataFrame, a: str, b: str, outputs: tuple[str, ...]
) -> tuple[pl.DataFrame, tuple[pl.DataFrame, ...]]:
    """Pairs of a and b whose inputs are not marked non-fasting (an unknown flag is kept),
    and the skipped rows (one per output analyte) of the pairs where an input is not."""
    pairs = _paired(measurements, a, b)
    not_fasting = (pl.col("_fa") == False) | (pl.col("_fb") == False)  # noqa: E712 - null-aware
    bad = pairs.filter(not_fasting.fill_null(False))
    skipped = tuple(_skip(bad, "measurements", out, _NOT_FASTING) for out in outputs)
    return pairs.filter(~not_fasting.fill_null(False)), skipped


def derive_homa_cp(measurements: pl.DataFrame) -> Derived:
    """homa_cp_ir and homa_cp_b (Lian 2022) for every participant and visit with fcp and fpg,
    both fasting (a pair with an input marked fasting=false is skipped, with the reason)."""
    return _derive_homa(
        measurements,
        "fcp",
        {
            "homa_cp_ir": (homa_cp_ir, _NOT_A_NUMBER),
            "homa_cp_b": (homa_cp_b, _UNDEFINED_B),
        },
    )


def derive_homa1(measurements: pl.DataFrame) -> Derived:
    """homa1_ir and homa1_b (Matthews 1985) for every participant and visit with fins and fpg,
    both fasting (a pair with an input marked fasting=false is skipped, with the reason)."""
    return _derive_homa(
        measurements,
        "fins",
        {
            "homa1_ir": (lambda fins, fpg: homa1_ir(fpg, fins), _NOT_A_NUMBER),
            "homa1_b": (lambda fins, fpg: homa1_b(fpg, fins), _UNDEFINED_B),
        },
    )


def _derive_homa(
    measurements: pl.DataFrame,
    secretion: str,
    indices: dict[str, tuple[Callable[[np.ndarray, np.ndarray], object], str]],
) -> Derived:
    """HOMA indices from a fasting secretion marker (insulin or C-peptide) paired with FPG;
    each index is (formula(secretion, fpg), the reason given where it is undefined)."""
    pairs, skipped = _fasting_pairs(measurements, secretion, "fpg", tuple(indices))
    marker, fpg = _column(pairs, secretion), _column(pairs, "fpg")
    values = {
        name: (np.asarray(formula(marker, fpg)), reason)
        for name, (formula, reason) in indices.items()
    }
    return _finish(measurements, pairs, values, skipped)


def _single_input(measurements: pl.DataFrame, analyte: str) -> pl.DataFrame:
    _require(measurements, "measurements", _MEASUREMENT_COLS)
    return measurements.filter(pl.col("analyte") == analyte)


def derive_hba1c_ifcc(measurements: pl.DataFrame) -> Derived:
    """hba1c_ifcc (mmol/mol, Hoelzel 2004 master equation) for every hba1c row."""
    rows = _single_input(measurements, "hba1c")
    values = np.asarray(hba1c_ifcc(_column(rows, "value")))
    return _finish(measurements, rows, {"hba1c_ifcc": (values, _NOT_A_NUMBER)})


def derive_eag(measurements: pl.DataFrame) -> Derived:
    """eag (mmol/L, ADAG: Nathan 2008) for every hba1c row."""
    rows = _single_input(measurements, "hba1c")
    values = np.asarray(eag_mmol_l(_column(rows, "value")))
    return _finish(measurements, rows, {"eag": (values, _NOT_A_NUMBER)})


# Days per year when only the age at enrolment is known: the Julian year (365.25 days), the
# mean calendar year over a 4-year leap cycle.
DAYS_PER_YEAR = 365.25
# The age of CellTrial, as the methods text states it (age_on computes it).
AGE_DEFINITION = (
    "completed years on the date (from the birth date, a birthday counting as reached on the "
    "day; else the age recorded at enrolment plus the years since, rounded down)"
)


def completed_years(birth: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Age in completed years (the birthday itself counts as reached)."""

    # month and day are Int8 in Polars: widen before x 100 (July x 100 overflows Int8)
    def month_day(d: pl.Expr) -> pl.Expr:
        return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

    before_birthday = month_day(on) < month_day(birth)
    return (on.dt.year() - birth.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Float64)


def age_on(on: pl.Expr) -> pl.Expr:
    """The one age of CellTrial: completed years on the date `on` (eligibility on its rule's
    date, Table 1 and subgroups at enrolment, eGFR at the sample). From birth_date; else the
    recorded `age` (completed years at enrolment) plus the years since enrolment, rounded down
    (the schema's participants columns birth_date, age, enrollment_date)."""
    later = (on - pl.col("enrollment_date")).dt.total_days().fill_null(0) / DAYS_PER_YEAR
    return pl.coalesce(completed_years(pl.col("birth_date"), on), (pl.col("age") + later).floor())


def derive_egfr(measurements: pl.DataFrame, participants: pl.DataFrame) -> Derived:
    """egfr (CKD-EPI 2021, Inker 2021) for every creatinine row, with sex and age at the sample
    from participants (age_on the sample's date: completed years)."""
    person = ("participant_id", "sex", "birth_date", "age", "enrollment_date")
    _require(participants, "participants", person)
    rows = (
        _single_input(measurements, "creatinine")
        .join(participants.select(person), on="participant_id", how="left")
        .with_columns(
            pl.col("sex").str.strip_chars().str.to_uppercase().alias("_sex"),
            age_on(pl.col("time").dt.date()).alias("_age"),
        )
    )
    reason = (
        pl.when(~pl.col("_sex").is_in(["M", "F"]).fill_null(False))
        .then(pl.format("sex {} is not M or F", pl.col("sex").fill_null("(empty)")))
        .when(pl.col("_age").is_null())
        .then(pl.lit("age unknown: no birth_date and no age"))
        .when(pl.col("_age") < MIN_AGE_YEARS)
        .then(pl.lit("age < 18: CKD-EPI 2021 is defined for adults (Inker 2021)"))
    )
    rows = rows.with_columns(reason.alias("_why"))
    usable = rows.filter(pl.col("_why").is_null())
    values = np.asarray(
        egfr_ckd_epi_2021(
            _column(usable, "value"), _column(usable, "_age"), usable["_sex"].to_numpy()
        )
    )
    unusable = _skip(
        rows.filter(pl.col("_why").is_not_null()), "measurements", "egfr", pl.col("_why")
    )
    why_nan = "creatinine missing or not positive"
    return _finish(measurements, usable, {"egfr": (values, why_nan)}, (unusable,))


def derive_bmi(measurements: pl.DataFrame, participants: pl.DataFrame) -> Derived:
    """bmi for every weight row, with participants.height_cm, else the participant's mean
    height measurement."""
    _require(participants, "participants", ("participant_id", "height_cm"))
    measured = (
        _single_input(measurements, "height")
        .group_by("participant_id")
        .agg(pl.col("value").mean().alias("_measured_height"))
    )
    rows = (
        _single_input(measurements, "weight")
        .join(participants.select("participant_id", "height_cm"), on="participant_id", how="left")
        .join(measured, on="participant_id", how="left")
        .with_columns(pl.coalesce("height_cm", "_measured_height").alias("_height"))
    )
    values = np.asarray(bmi(_column(rows, "value"), _column(rows, "_height")))
    why = "no height: participants.height_cm empty and no height measurement"
    return _finish(measurements, rows, {"bmi": (values, why)})


def clinical_expr(formula: Callable[..., object], *inputs: pl.Expr) -> pl.Expr:
    """A Polars expression applying one celltrial.clinical formula (homa_cp_b, bmi, ...) to
    whole columns, e.g. clinical_expr(homa_cp_b, pl.col("fcp"), pl.col("fpg")) on a wide
    frame. NaN results (undefined values) become null."""
    fields = [e.alias(f"_{i}") for i, e in enumerate(inputs)]

    def apply(batch: pl.Series) -> pl.Series:
        args = [batch.struct.field(f"_{i}").cast(pl.Float64).to_numpy() for i in range(len(fields))]
        return pl.Series(np.asarray(formula(*args), dtype=float)).fill_nan(None)

    return pl.struct(fields).map_batches(apply, return_dtype=pl.Float64)


def ckd_stage_expr(egfr: pl.Expr) -> pl.Expr:
    """KDIGO 2012 G1..G5 of an eGFR expression, from the same breaks as egfr.ckd_stage;
    null for a missing or NaN eGFR."""
    chain = pl.when(egfr.is_null() | egfr.is_nan()).then(pl.lit(None, pl.Utf8))
    # highest bound first: G1 from 90, G2 from 60, ... (one branch per category, not per row)
    for bound, stage in zip(reversed(CKD_STAGE_BREAKS), reversed(CKD_STAGES[1:]), strict=True):
        chain = chain.when(egfr >= bound).then(pl.lit(stage))
    return chain.otherwise(pl.lit(CKD_STAGES[0]))


def derive_ckd_stage(measurements: pl.DataFrame) -> Derived:
    """The egfr rows with a ckd_stage column (KDIGO 2012 G1, G2, G3a, G3b, G4, G5)."""
    rows = _single_input(measurements, "egfr")
    staged = rows.with_columns(ckd_stage_expr(pl.col("value")).alias("ckd_stage"))
    nan = staged.filter(pl.col("ckd_stage").is_null())
    return Derived(
        staged,
        pl.concat([_empty_skipped(), _skip(nan, "measurements", "ckd_stage", _NOT_A_NUMBER)]),
    )


# ------------------------------------------------------------------ other tables


def _with_weight(
    frame: pl.DataFrame, measurements: pl.DataFrame, on: str, strategy: str
) -> pl.DataFrame:
    """`frame` with `_row` (its order) and `_weight`: the weight measurement matched to each
    row's `on` time by `strategy` (join_asof); rows without a time get no weight."""
    as_date = frame.schema[on] == pl.Date
    weights = (
        _single_input(measurements, "weight")
        .select(
            "participant_id",
            (pl.col("time").dt.date() if as_date else pl.col("time")).alias("_wtime"),
            pl.col("value").alias("_weight"),
        )
        .drop_nulls(["_wtime", "_weight"])
        .sort("_wtime")
    )
    indexed = frame.with_row_index("_row")
    joined = (
        indexed.filter(pl.col(on).is_not_null())
        .sort(on)
        .join_asof(
            weights,
            left_on=on,
            right_on="_wtime",
            by="participant_id",
            strategy=strategy,  # type: ignore[arg-type]
            check_sortedness=False,  # sorted on the key as a whole, hence within each participant
        )
    )
    untimed = indexed.filter(pl.col(on).is_null())
    return pl.concat([joined.drop("_wtime"), untimed], how="diagonal_relaxed").sort("_row")


def derive_dose_per_kg(infusions: pl.DataFrame, measurements: pl.DataFrame) -> Derived:
    """Fill infusions.weight_kg (else the latest weight measurement on or before the infusion)
    and infusions.dose_cells_per_kg = dose_cells / weight_kg where they are empty; values
    entered are kept."""
    _require(infusions, "infusions", ("participant_id", "start_time", "dose_cells", "weight_kg"))
    rows = _with_weight(infusions, measurements, "start_time", "backward")
    rows = rows.with_columns(pl.coalesce("weight_kg", "_weight").alias("weight_kg"))
    per_kg = np.asarray(dose_cells_per_kg(_column(rows, "dose_cells"), _column(rows, "weight_kg")))
    if "dose_cells_per_kg" not in rows.columns:
        rows = rows.with_columns(pl.lit(None, pl.Float64).alias("dose_cells_per_kg"))
    rows = rows.with_columns(
        pl.coalesce(pl.col("dose_cells_per_kg"), pl.Series(per_kg).fill_nan(None)).alias(
            "dose_cells_per_kg"
        )
    )
    missing = rows.filter(pl.col("dose_cells_per_kg").is_null()).rename({"start_time": "time"})
    why = "no weight_kg on the infusion and no weight measurement on or before it"
    out = rows.select([pl.col(c).cast(t) for c, t in infusions.schema.items()])
    if "dose_cells_per_kg" not in out.columns:
        out = out.with_columns(rows["dose_cells_per_kg"])
    return Derived(
        out, pl.concat([_empty_skipped(), _skip(missing, "infusions", "dose_cells_per_kg", why)])
    )


# The weight behind every dose per kg, as the methods text states it (weight_on computes it).
WEIGHT_ON_DATE = (
    "the weight measured on that date, else the latest earlier weight, else the earliest later "
    "one, else the weight recorded at infusion"
)


def weight_on(
    frame: pl.DataFrame,
    on: str,
    measurements: pl.DataFrame,
    infusions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`frame` with weight_kg: the one weight behind every dose per kg (insulin U/kg/day).

    The participant's weight on the date in column `on`: the latest weight measured on or
    before that day, else the earliest one after it (the baseline weight of a prescription
    started before the study), else the weight on the participant's earliest infusion record
    with one; null when there is none. Weights without a time cannot be placed and are not
    used. Rows keep their order; a null date gets no measured weight.
    """
    weights = (
        _single_input(measurements, "weight")
        .filter(pl.col("time").is_not_null() & pl.col("value").is_not_null())
        .sort("time")
        .select("participant_id", pl.col("time").dt.date().alias("_wday"), pl.col("value"))
    )
    indexed = frame.with_row_index("_row")
    dated = indexed.filter(pl.col(on).is_not_null()).sort(on)
    untimed = indexed.filter(pl.col(on).is_null())
    asof = {"left_on": on, "right_on": "_wday", "by": "participant_id", "check_sortedness": False}
    before = dated.join_asof(weights.rename({"value": "_before"}), strategy="backward", **asof)
    after = before.drop("_wday").join_asof(
        weights.rename({"value": "_after"}), strategy="forward", **asof
    )
    out = pl.concat([after.drop("_wday"), untimed], how="diagonal_relaxed").sort("_row")
    if infusions is not None and infusions.height:
        recorded = infusions.filter(pl.col("weight_kg").is_not_null()).sort("start_time")
        first = recorded.group_by("participant_id", maintain_order=True).agg(
            pl.col("weight_kg").first().alias("_infused")
        )
        out = out.join(first, on="participant_id", how="left", maintain_order="left")
    else:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("_infused"))
    weight = pl.coalesce("_before", "_after", "_infused").cast(pl.Float64).alias("weight_kg")
    return out.with_columns(weight).drop("_row", "_before", "_after", "_infused")


def derive_insulin_u_per_kg(
    medications: pl.DataFrame,
    measurements: pl.DataFrame,
    infusions: pl.DataFrame | None = None,
) -> Derived:
    """The insulin prescriptions (celltrial.clinical.drugs.insulin_expr: ATC A10A, from the
    row's code or the catalogue's code for its drug name) with weight_kg (weight_on the
    start_date) and insulin_u_per_kg = daily_dose / weight_kg. Prescriptions not in insulin
    units or without a weight go to skipped."""
    _require(
        medications,
        "medications",
        ("participant_id", "drug", "atc_code", "daily_dose", "dose_unit", "start_date"),
    )
    rows = weight_on(medications.filter(insulin_expr()), "start_date", measurements, infusions)
    in_units = pl.col("dose_unit").is_in(list(INSULIN_DOSE_UNITS)).fill_null(False)
    per_kg = np.asarray(insulin_u_per_kg(_column(rows, "daily_dose"), _column(rows, "weight_kg")))
    rows = rows.with_columns(
        pl.when(in_units).then(pl.Series(per_kg)).fill_nan(None).alias("insulin_u_per_kg"),
        pl.when(~in_units)
        .then(
            pl.format(
                "dose_unit {} is not an insulin unit", pl.col("dose_unit").fill_null("(empty)")
            )
        )
        .when(pl.col("weight_kg").is_null())
        .then(pl.lit("no weight measurement (nor infusion record weight) for the participant"))
        .when(pl.col("daily_dose").is_null())
        .then(pl.lit("daily_dose empty"))
        .alias("_why"),
    )
    bad = rows.filter(pl.col("_why").is_not_null()).with_columns(
        pl.col("start_date").cast(pl.Datetime("us")).alias("time")
    )
    skipped = _skip(bad, "medications", "insulin_u_per_kg", pl.col("_why"))
    good = rows.filter(pl.col("_why").is_null())
    out = good.select(*medications.columns, "weight_kg", "insulin_u_per_kg")
    return Derived(out, pl.concat([_empty_skipped(), skipped]))


# ------------------------------------------------------------------ the whole study

MEASUREMENT_DERIVATIONS = ("bmi", "homa1", "homa_cp", "egfr", "hba1c_ifcc", "eag")


def derive_study(study: StudyData) -> tuple[StudyData, pl.DataFrame]:
    """Every measurement derivation, and infusion doses per kg, on a whole study: the study
    with derived rows added, and everything skipped (SKIPPED_SCHEMA)."""
    m, p = study.measurements, study.participants
    skipped = []
    steps = (
        lambda m: derive_bmi(m, p),
        derive_homa1,
        derive_homa_cp,
        lambda m: derive_egfr(m, p),
        derive_hba1c_ifcc,
        derive_eag,
    )
    for step in steps:  # one step per derivation
        done = step(m)
        m, skipped = done.table, [*skipped, done.skipped]
    doses = derive_dose_per_kg(study.infusions, m)
    out = study.with_table("measurements", m).with_table("infusions", doses.table)
    return out, pl.concat([_empty_skipped(), *skipped, doses.skipped])
