"""A study as a REDCap project: the data dictionary, arms, events, instrument designations,
repeating instruments, import-ready records (raw codes) and the mapping YAML that imports
them back into the same study.

The layout: arm 1 holds the participants; its first event ("Enrolment") carries the
participant form and the per-participant repeating instruments (screening, infusions,
medications, adverse events, unscheduled measurements); one event per visit carries the
visit form and that visit's measurements (a repeating instrument, one instance per value).
Product lots are records of arm 2 (record id = lot id), as REDCap projects keep records of
another kind apart. Every field is named <form prefix><column> so names stay unique.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from celltrial.clinical.analytes import ANALYTES
from celltrial.data.read_error import StudyReadError
from celltrial.data.redcap.dictionary import HEADERS
from celltrial.data.redcap.records import EVENT, REPEAT_INSTANCE, REPEAT_INSTRUMENT
from celltrial.data.schema import TABLES, Column
from celltrial.data.study import StudyData

RECORD_ID = "record_id"
STUDY_EVENT = "enrolment_arm_1"
LOT_EVENT = "lot_release_arm_2"
EVENT_NAME_CHARS = 18  # REDCap builds unique event names from the first 18 characters
MEASUREMENT_FIELDS = {"value_as_entered": "value", "unit_as_entered": "unit"}


@dataclass(frozen=True)
class FormPlan:
    table: str
    prefix: str
    repeating: bool
    place: str  # "study", "visit" (its visit's event, or the study event) or "lot"
    ids: tuple[tuple[str, str], ...]  # columns that come from the record or event


PLANS = (
    FormPlan("participants", "pt_", False, "study", (("participant_id", "@record"),)),
    FormPlan("screening", "scr_", True, "study", (("participant_id", "@record"),)),
    FormPlan("lots", "lot_", False, "lot", (("lot_id", "@record"),)),
    FormPlan("infusions", "inf_", True, "study", (("participant_id", "@record"),)),
    FormPlan(
        "visits", "vis_", False, "visit", (("participant_id", "@record"), ("visit_id", "@event"))
    ),
    FormPlan(
        "measurements",
        "lab_",
        True,
        "visit",
        (("participant_id", "@record"), ("visit_id", "@event")),
    ),
    FormPlan("medications", "med_", True, "study", (("participant_id", "@record"),)),
    FormPlan("adverse_events", "ae_", True, "study", (("participant_id", "@record"),)),
)
# measurements keep the entry; value and unit in the canonical unit are derived on import
DERIVED = {"measurements": ("value", "unit")}
IDENTIFIERS = {"birth_date"}  # identifying (HIPAA: dates of birth), flagged for REDCap


@dataclass(frozen=True)
class Export:
    dictionary: pl.DataFrame
    arms: pl.DataFrame
    events: pl.DataFrame
    designations: pl.DataFrame
    repeating: pl.DataFrame
    records: pl.DataFrame
    mapping: dict


def export_redcap(study: StudyData) -> Export:
    events = _visit_events(study)
    has_lots = study.lots.height > 0
    _no_shared_ids(study)
    plans = [p for p in PLANS if p.place != "lot" or has_lots]
    return Export(
        dictionary=_dictionary(plans),
        arms=pl.DataFrame(
            {
                "arm_num": [1, 2][: 1 + has_lots],
                "name": ["Participants", "Product lots"][: 1 + has_lots],
            }
        ),
        events=_events_table(events, study, has_lots),
        designations=_designations(plans, events),
        repeating=pl.DataFrame(
            {
                "event_name": [
                    STUDY_EVENT if p.place == "study" else ev
                    for p in plans
                    if p.repeating
                    for ev in _places(p, events)
                ],
                "form_name": [p.table for p in plans if p.repeating for _ in _places(p, events)],
            }
        ).with_columns(pl.lit("").alias("custom_form_label")),
        records=_records(study, plans, events),
        mapping=_mapping(study, plans, events),
    )


def write_export(export: Export, folder: Path) -> list[Path]:
    """The files into `folder` (the caller makes it atomic by writing a temporary folder)."""
    files = {
        "data_dictionary.csv": export.dictionary,
        "arms.csv": export.arms,
        "events.csv": export.events,
        "instrument_designation.csv": export.designations,
        "repeating_instruments.csv": export.repeating,
        "records.csv": export.records,
    }
    written = []
    for name, frame in files.items():  # six files
        frame.write_csv(folder / name)
        written.append(folder / name)
    head = (
        "# CellTrial mapping of this REDCap export: `celltrial import redcap --dictionary\n"
        "# data_dictionary.csv --records records.csv --events instrument_designation.csv\n"
        "# --mapping mapping.yaml --out STUDY_DIR` gives the study back.\n"
    )
    text = head + yaml.safe_dump(export.mapping, sort_keys=False, allow_unicode=True)
    (folder / "mapping.yaml").write_text(text, encoding="utf-8")
    written.append(folder / "mapping.yaml")
    return written


# ---------------------------------------------------------------- events


def _visit_events(study: StudyData) -> dict[str, str]:
    """visit_id -> unique event name, in target-day order (visits without one last)."""
    days = study.visits.group_by("visit_id").agg(pl.col("target_day").min())
    ids = pl.concat([study.visits["visit_id"], study.measurements["visit_id"]]).drop_nulls()
    order = (
        pl.DataFrame({"visit_id": ids.unique()})
        .join(days, on="visit_id", how="left")
        .sort("target_day", "visit_id", nulls_last=True)
    )
    taken = {STUDY_EVENT, LOT_EVENT}
    events: dict[str, str] = {}
    for visit in order["visit_id"].to_list():  # the study's visits, a handful
        base = re.sub(r"[^a-z0-9]+", "_", visit.lower()).strip("_")[:EVENT_NAME_CHARS] or "visit"
        name, n = f"{base}_arm_1", 1
        while name in taken:
            n += 1
            name = f"{base[: EVENT_NAME_CHARS - len(str(n))]}{n}_arm_1"
        taken.add(name)
        events[visit] = name
    return events


def _events_table(events: dict[str, str], study: StudyData, has_lots: bool) -> pl.DataFrame:
    days = dict(study.visits.group_by("visit_id").agg(pl.col("target_day").min()).iter_rows())
    rows = [("Enrolment", 1, 0, 0, 0, STUDY_EVENT, "")]
    rows += [
        (visit, 1, days.get(visit) or 0, 0, 0, name, "")
        for visit, name in events.items()  # visits
    ]
    if has_lots:
        rows.append(("Lot release", 2, 0, 0, 0, LOT_EVENT, ""))
    cols = ["event_name", "arm_num", "day_offset", "offset_min", "offset_max"]
    return pl.DataFrame(
        rows, schema=[*cols, "unique_event_name", "custom_event_label"], orient="row"
    )


def _places(plan: FormPlan, events: dict[str, str]) -> list[str]:
    if plan.place == "lot":
        return [LOT_EVENT]
    if plan.place == "study":
        return [STUDY_EVENT]
    visit_events = list(events.values())
    return [STUDY_EVENT, *visit_events] if plan.repeating else visit_events


def _designations(plans: list[FormPlan], events: dict[str, str]) -> pl.DataFrame:
    rows = [
        (2 if event == LOT_EVENT else 1, event, plan.table)
        for plan in plans
        for event in _places(plan, events)
    ]
    frame = pl.DataFrame(rows, schema=["arm_num", "unique_event_name", "form"], orient="row")
    order = [STUDY_EVENT, *events.values(), LOT_EVENT]
    return frame.sort(
        pl.col("unique_event_name").replace_strict(order, list(range(len(order)))),
        maintain_order=True,
    )


def _no_shared_ids(study: StudyData) -> None:
    both = set(study.participants["participant_id"].drop_nulls()) & set(
        study.lots["lot_id"].drop_nulls()
    )
    if both:
        raise StudyReadError(
            f"lot ids {', '.join(sorted(both)[:5])} are also participant ids: REDCap record "
            "ids are shared by both arms; rename the lots"
        )


# ---------------------------------------------------------------- dictionary


def field_name(plan: FormPlan, column: str) -> str:
    short = MEASUREMENT_FIELDS.get(column, column) if plan.table == "measurements" else column
    return f"{plan.prefix}{short}"


def exported_columns(plan: FormPlan) -> list[Column]:
    implicit = {c for c, _ in plan.ids} | set(DERIVED.get(plan.table, ()))
    return [c for c in TABLES[plan.table].columns if c.name not in implicit]


def _field_row(plan: FormPlan, column: Column, first: bool) -> dict[str, str]:
    kind, choices, validation = _redcap_type(plan.table, column)
    label = column.name.replace("_", " ").capitalize()
    return {
        "Variable / Field Name": field_name(plan, column.name),
        "Form Name": plan.table,
        "Section Header": plan.table.replace("_", " ").capitalize() if first else "",
        "Field Type": kind,
        "Field Label": label,
        "Choices, Calculations, OR Slider Labels": choices,
        "Field Note": column.description,
        "Text Validation Type OR Show Slider Number": validation,
        "Identifier?": "y" if column.name in IDENTIFIERS else "",
        "Required Field?": "y" if column.required else "",
        "Field Annotation": f"CellTrial {plan.table}.{column.name}",
    }


def _redcap_type(table: str, column: Column) -> tuple[str, str, str]:
    if column.name == "sex":
        return "dropdown", "M, Male | F, Female", ""  # schema: participants.sex is M or F
    if table == "measurements" and column.name == "analyte":
        items = " | ".join(f"{a.id}, {a.name}" for a in ANALYTES.values())
        return "dropdown", items, ""
    dtype = column.dtype
    if dtype == pl.Boolean:
        return "yesno", "", ""
    if dtype == pl.Date:
        return "text", "", "date_ymd"
    if isinstance(dtype, pl.Datetime):
        return "text", "", "datetime_seconds_ymd"
    if dtype == pl.Float64:
        return "text", "", "number"
    if dtype == pl.Int64:
        return "text", "", "integer"
    return "text", "", ""


def _dictionary(plans: list[FormPlan]) -> pl.DataFrame:
    rows = [
        {
            "Variable / Field Name": RECORD_ID,
            "Form Name": plans[0].table,
            "Field Type": "text",
            "Field Label": "Record ID (participant id; lot id in arm 2)",
        }
    ]
    for plan in plans:  # eight forms
        for i, column in enumerate(exported_columns(plan)):
            rows.append(_field_row(plan, column, i == 0))
    frame = pl.DataFrame(rows, schema=dict.fromkeys(HEADERS, pl.Utf8))
    # empty cells as REDCap writes them (nothing between the commas), not ""
    return frame.with_columns(
        pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in frame.columns
    )


# ---------------------------------------------------------------- records


def _as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    cell = pl.col(column)
    if dtype == pl.Boolean:
        return pl.when(cell).then(pl.lit("1")).when(~cell).then(pl.lit("0"))
    if dtype == pl.Date:
        return cell.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return cell.dt.to_string("%Y-%m-%d %H:%M:%S")  # REDCap datetime_seconds: no fraction
    return cell.cast(pl.Utf8)


def _records(study: StudyData, plans: list[FormPlan], events: dict[str, str]) -> pl.DataFrame:
    parts = []
    for rank, plan in enumerate(plans):  # eight forms
        frame = getattr(study, plan.table)
        if frame.height == 0:
            continue
        record = "lot_id" if plan.place == "lot" else "participant_id"
        event = _event_of(plan, events)
        fields = [
            _as_text(c.name, frame.schema[c.name]).alias(field_name(plan, c.name))
            for c in exported_columns(plan)
        ]
        part = frame.select(
            pl.col(record).alias(RECORD_ID),
            event.alias(EVENT),
            pl.lit(plan.table if plan.repeating else None, pl.Utf8).alias(REPEAT_INSTRUMENT),
            *fields,
            pl.lit("2").alias(f"{plan.table}_complete"),  # REDCap form status 2 = Complete
            pl.lit(rank).alias("_rank"),
        )
        if plan.repeating:
            instance = pl.int_range(1, pl.len() + 1).over(RECORD_ID, EVENT)
            part = part.with_columns(instance.cast(pl.Utf8).alias(REPEAT_INSTANCE))
        parts.append(part)
    records = pl.concat(parts, how="diagonal_relaxed")
    order = [STUDY_EVENT, *events.values(), LOT_EVENT]
    event_rank = pl.col(EVENT).replace_strict(order, list(range(len(order))))
    records = records.sort(
        pl.col(EVENT) == LOT_EVENT,
        RECORD_ID,
        event_rank,
        pl.col(REPEAT_INSTRUMENT).is_not_null(),
        "_rank",
        pl.col(REPEAT_INSTANCE).cast(pl.Int64),
        maintain_order=True,
    )
    columns = [RECORD_ID, EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    for plan in plans:  # the dictionary's column order: each form's fields, then its status
        columns += [field_name(plan, c.name) for c in exported_columns(plan)]
        columns.append(f"{plan.table}_complete")
    present = [c for c in columns if c in records.columns]
    absent = [pl.lit(None, pl.Utf8).alias(c) for c in columns if c not in records.columns]
    return records.with_columns(absent).select(columns) if absent else records.select(present)


def _event_of(plan: FormPlan, events: dict[str, str]) -> pl.Expr:
    if plan.place == "lot":
        return pl.lit(LOT_EVENT)
    if plan.place == "study":
        return pl.lit(STUDY_EVENT)
    visit = pl.col("visit_id").replace_strict(events, default=None, return_dtype=pl.Utf8)
    return pl.coalesce(visit, pl.lit(STUDY_EVENT))


# ---------------------------------------------------------------- mapping


def _mapping(study: StudyData, plans: list[FormPlan], events: dict[str, str]) -> dict:
    tables = {}
    for plan in plans:  # eight forms
        columns: dict[str, object] = dict(plan.ids)
        columns.update({c.name: field_name(plan, c.name) for c in exported_columns(plan)})
        tables[plan.table] = {"form": plan.table, "columns": columns}
    meta = study.meta
    head = {"celltrial_mapping": 1, "study_id": meta.study_id}
    optional = (
        ("protocol", meta.protocol),
        ("title", meta.title),
        ("simulated", meta.simulated),
        ("simulator", meta.simulator),
    )
    head |= {k: v for k, v in optional if v}
    return head | {
        "record_id": RECORD_ID,
        "events": {name: visit for visit, name in events.items()},
        "tables": tables,
    }
