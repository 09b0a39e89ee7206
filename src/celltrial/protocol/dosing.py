"""Cell dose: computed from weight (or flat) and the lot's concentration, checked against
the protocol and the lot's release; a dose that breaks a rule is refused with the reason.

Weight-based: dose = cells_per_kg x weight (Lian 2022: 1 x 10^6 cells/kg, L152); a
requested dose is accepted within +- tolerance_pct of it. Flat: the requested dose (or
the protocol's flat target) must lie in flat_min..flat_max inclusive (Chin 2025: 50-100
million cells, C4). Volume = dose / (cells_per_unit / volume_ml).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData
from celltrial.protocol.lots import lot_failures
from celltrial.protocol.model import Dosing, Protocol


@dataclass(frozen=True)
class DosePlan:
    dose_cells: float | None
    dose_cells_per_kg: float | None
    volume_ml: float | None
    units: float | None  # bags or vials of the lot, fractional
    accepted: bool
    reasons: list[str]


def dose_target(d: Dosing) -> pl.Expr:
    """The protocol's dose over columns weight_kg (weight-based) in cells."""
    if d.mode == "weight_based":
        return pl.col("weight_kg") * d.cells_per_kg
    return pl.lit(d.flat_target_cells or d.flat_max_cells, pl.Float64)


def dose_failure(d: Dosing) -> pl.Expr:
    """Why a dose breaks the protocol's dosing rule, or null, over columns weight_kg and
    requested_cells (null: the protocol's own dose is asked)."""
    weight, asked = pl.col("weight_kg"), pl.col("requested_cells")
    target = dose_target(d)
    if d.mode == "weight_based":
        off = (asked - target).abs() > target * d.tolerance_pct / 100
        return (
            pl.when(weight.is_null() | (weight <= 0))
            .then(pl.lit("weight_kg missing or not positive: a weight-based dose needs it"))
            .when(asked.is_not_null() & off)
            .then(
                pl.format(
                    "requested {} cells is not within {} % of {} cells/kg x {} kg = {} cells",
                    asked,
                    pl.lit(d.tolerance_pct),
                    pl.lit(d.cells_per_kg),
                    weight,
                    target,
                )
            )
        )
    dose = pl.coalesce(asked, target)
    return pl.when((dose < d.flat_min_cells) | (dose > d.flat_max_cells)).then(
        pl.format(
            "dose {} cells outside the flat range {}..{} cells",
            dose,
            pl.lit(d.flat_min_cells),
            pl.lit(d.flat_max_cells),
        )
    )


def plan_doses(requests: pl.DataFrame, lots: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """Vectorized dose planning. `requests` has weight_kg, lot_id, on (Date) and optional
    requested_cells; adds dose_cells, dose_cells_per_kg, volume_ml, units, accepted and
    reasons (list of refusals)."""
    if "requested_cells" not in requests.columns:
        requests = requests.with_columns(pl.lit(None, pl.Float64).alias("requested_cells"))
    dose_rule = dose_failure(protocol.dosing)
    target = dose_target(protocol.dosing)
    asked, weight = pl.col("requested_cells"), pl.col("weight_kg")
    lot_cols = [c.name for c in TABLES["lots"].columns]
    joined = requests.join(
        lots.select(lot_cols).with_columns(pl.lit(True).alias("_lot_found")),
        on="lot_id",
        how="left",
    )
    known = pl.col("_lot_found").is_not_null()
    lot_rule = pl.when(~known).then(pl.format("lot {} not found", pl.col("lot_id")))
    per_unit = pl.col("cells_per_unit")
    unit_rule = pl.when(known & (per_unit.is_null() | (per_unit <= 0))).then(
        pl.lit("lot cells_per_unit missing: the volume cannot be computed")
    )
    # A missing lot has no release results to list: a one-null list keeps concat_list non-null.
    lot_checks = (
        pl.when(known)
        .then(lot_failures(protocol.lot_release, pl.col("on")))
        .otherwise(pl.concat_list(pl.lit(None, pl.Utf8)))
    )
    failures = pl.concat_list(dose_rule, lot_rule, unit_rule, lot_checks)
    dose = pl.coalesce(asked, target)
    return (
        joined.with_columns(
            dose.alias("dose_cells"),
            (dose / weight).alias("dose_cells_per_kg"),
            (dose / (per_unit / pl.col("volume_ml"))).alias("volume_ml_dose"),
            (dose / per_unit).alias("units"),
            failures.list.drop_nulls().alias("reasons"),
        )
        .with_columns((pl.col("reasons").list.len() == 0).alias("accepted"))
        .select(
            *requests.columns,
            "dose_cells",
            "dose_cells_per_kg",
            pl.col("volume_ml_dose").alias("volume_ml"),
            "units",
            "accepted",
            "reasons",
        )
    )


def compute_dose(
    weight_kg: float | None,
    protocol: Protocol,
    lot: Mapping[str, object],
    on_date: dt.date | None = None,
    requested_cells: float | None = None,
) -> DosePlan:
    """The dose of one infusion for one participant from one lot (a lots-table row as a
    mapping); refused (accepted False, reasons) when the lot or the dose breaks a rule."""
    schema = TABLES["lots"].polars_schema
    lot_frame = pl.DataFrame([{c: lot.get(c) for c in schema}], schema=schema)
    request = pl.DataFrame(
        {
            "weight_kg": [weight_kg],
            "lot_id": [lot.get("lot_id")],
            "on": [on_date or dt.date.today()],
            "requested_cells": [requested_cells],
        },
        schema={
            "weight_kg": pl.Float64,
            "lot_id": pl.Utf8,
            "on": pl.Date,
            "requested_cells": pl.Float64,
        },
    )
    row = plan_doses(request, lot_frame, protocol).row(0, named=True)
    return DosePlan(
        row["dose_cells"],
        row["dose_cells_per_kg"],
        row["volume_ml"],
        row["units"],
        row["accepted"],
        list(row["reasons"]),
    )


def check_infusions(study: StudyData, protocol: Protocol) -> pl.DataFrame:
    """Every infusion given, checked: dose against the protocol, lot released and not
    expired on the infusion date, and no more infusions than the protocol plans."""
    given = study.infusions.with_columns(
        pl.col("start_time").cast(pl.Date).alias("on"),
        pl.col("dose_cells").alias("requested_cells"),
        beyond_plan(protocol.dosing).alias("_extra"),
    )
    checked = plan_doses(
        given.select(
            "infusion_id",
            "participant_id",
            "lot_id",
            "on",
            "weight_kg",
            "requested_cells",
            "_extra",
        ),
        study.lots,
        protocol,
    )
    return (
        checked.with_columns(pl.concat_list("reasons", "_extra").list.drop_nulls().alias("reasons"))
        .with_columns((pl.col("reasons").list.len() == 0).alias("accepted"))
        .drop("_extra")
    )


def beyond_plan(d: Dosing) -> pl.Expr:
    """Why an infusion is beyond the protocol's number of infusions, or null, over columns
    participant_id and start_time (the n-th infusion of a participant by time)."""
    nth = pl.col("start_time").rank("ordinal").over("participant_id")
    return pl.when(nth > d.n_infusions).then(
        pl.format("infusion {} of a protocol that plans {}", nth, pl.lit(d.n_infusions))
    )
