"""An infusion only for an eligible (protocol screen) and consented participant, from a
released lot, with the dose per kg computed; a dose outside the protocol is refused with
the reason (celltrial.protocol.dosing)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from celltrial.data import StudyData
from celltrial.protocol import Protocol, check_infusions, compute_dose, screen
from celltrial.protocol.dosing import DosePlan
from celltrial.protocol.eligibility import MET
from celltrial.registry.services.errors import Problem, Refused


def eligibility_problems(study: StudyData, protocol: Protocol, participant_id: str) -> list:
    result = screen(study, protocol)
    open_ = result.criteria.filter(
        (pl.col("participant_id") == participant_id) & (pl.col("status") != MET)
    )
    return [
        Problem(
            "participant_id",
            f"not eligible: criterion {r['criterion_id']} is {r['status']} ({r['reason']})",
            participant_id,
        )
        for r in open_.iter_rows(named=True)  # the unmet criteria of one participant
    ]


def completed_infusion(study: StudyData, protocol: Protocol, row: dict) -> dict:
    """The infusion row with dose (when not given), dose per kg and number filled in;
    refused when the participant is not eligible or the dose or lot breaks a rule."""
    pid = row["participant_id"]
    problems = eligibility_problems(study, protocol, pid)
    lot = study.lots.filter(pl.col("lot_id") == row.get("lot_id"))
    if lot.height == 0:
        problems.append(Problem("lot_id", "no such lot in this study", row.get("lot_id")))
    if problems:
        raise Refused(problems)
    start = row["start_time"]
    on = start.date() if isinstance(start, dt.datetime) else None
    plan = compute_dose(row.get("weight_kg"), protocol, lot.row(0, named=True), on, None)
    filled = dict(row)
    if filled.get("dose_cells") is None and plan.dose_cells is not None:
        filled["dose_cells"] = plan.dose_cells
    if filled.get("dose_cells") is not None and filled.get("weight_kg"):
        filled["dose_cells_per_kg"] = filled["dose_cells"] / filled["weight_kg"]
    earlier = study.infusions.filter(pl.col("participant_id") == pid).height
    if filled.get("infusion_number") is None:
        filled["infusion_number"] = earlier + 1
    return filled


def dose_problems(study: StudyData, protocol: Protocol, infusion_id: str) -> None:
    """Refuse when check_infusions (dose, lot release and expiry, count) refuses it."""
    checked = check_infusions(study, protocol).filter(pl.col("infusion_id") == infusion_id)
    reasons = checked["reasons"].explode().drop_nulls().to_list() if checked.height else []
    if reasons:
        raise Refused([Problem("dose_cells", r) for r in reasons])


def dose_preview(
    lots: pl.DataFrame,
    protocol: Protocol,
    lot_id: str | None,
    weight_kg: float | None,
    requested_cells: float | None,
    on: dt.date | None,
) -> DosePlan:
    """What compute_dose says of a dose as it is typed (nothing stored): cells, cells per
    kg, and whether the protocol and the lot accept it, with the reasons when not."""
    lot = lots.filter(pl.col("lot_id") == lot_id)
    if lot.height == 0:
        reason = "choose a released lot" if not lot_id else f"no lot {lot_id!r} in this study"
        per_kg = requested_cells / weight_kg if requested_cells and weight_kg else None
        return DosePlan(requested_cells, per_kg, None, None, False, [reason])
    return compute_dose(weight_kg, protocol, lot.row(0, named=True), on, requested_cells)
