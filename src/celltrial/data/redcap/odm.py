"""The REDCap project XML: CDISC ODM 1.3.2 with REDCap's `redcap:` extensions, carrying the
dictionary (ItemDef, CodeList, FormDef), the events and their forms (StudyEventDef), the
missing-data codes and repeating instruments (GlobalVariables) and the records
(ClinicalData) in one file. Read into the same Project as the CSV files, so one import
serves both; written from an export, so a study moves into REDCap as one file.

defusedxml is not among the locked dependencies, so the stdlib expat parser is used with
the same defence: any DOCTYPE, entity declaration or external entity refuses the file
(no entity expansion, no network or file access), as defusedxml does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import polars as pl

from celltrial.data.findings import empty_findings
from celltrial.data.read_error import StudyReadError
from celltrial.data.redcap.dictionary import HEADERS, dictionary_from_fields
from celltrial.data.redcap.missing_codes import REDCAP_MISSING_CODES, parse_missing_codes
from celltrial.data.redcap.project import DESIGNATION_COLUMNS, Project
from celltrial.data.redcap.records import (
    DAG,
    EVENT,
    MAX_BYTES,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    records_from_frame,
)

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
REDCAP_NS = "https://projectredcap.org"
_TEXT = {"TranslatedText", "redcap:MissingDataCodes"}
# REDCap ItemDef attributes -> data dictionary columns (REDCap 14 ODM export)
_ITEM_ATTRIBUTES = {
    "redcap:FieldType": "field_type",
    "redcap:TextValidationType": "text_validation_type_or_show_slider_number",
    "redcap:FieldNote": "field_note",
    "redcap:SectionHeader": "section_header",
    "redcap:BranchingLogic": "branching_logic",
    "redcap:RequiredField": "required_field",
    "redcap:Identifier": "identifier",
    "redcap:FieldAnnotation": "field_annotation",
    "redcap:MatrixGroupName": "matrix_group_name",
    "redcap:Calculation": "select_choices_or_calculations",
}


class _Unsafe(Exception):
    pass


def _refuse(*_: object) -> None:
    raise _Unsafe


@dataclass
class _Parse:
    """What the handlers collect while expat reads the file (one pass)."""

    items: dict[str, dict[str, str]] = field(default_factory=dict)  # OID -> attributes
    item_order: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # ItemGroupOID -> item OIDs
    forms: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # OID -> name, groups
    code_lists: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    checkbox_choices: dict[str, str] = field(default_factory=dict)  # variable -> choices
    events: list[tuple[str, str, str]] = field(default_factory=list)  # arm, unique, label
    designations: list[tuple[str, str, str]] = field(default_factory=list)
    repeating: set[tuple[str, str]] = field(default_factory=set)  # (event, form)
    missing_codes: str | None = None
    record_id: str | None = None
    # records, long: one entry per ItemData
    cells: dict[str, list] = field(
        default_factory=lambda: {k: [] for k in ("key", "item", "value")}
    )
    rows: dict[tuple, dict[str, str | int | None]] = field(default_factory=dict)
    stack: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    current: dict[str, str | None] = field(default_factory=dict)


def read_project_xml(path: str | Path, max_bytes: int = MAX_BYTES) -> Project:
    file = Path(path)
    if not file.is_file():
        raise StudyReadError(f"{file}: no such file (expected a REDCap project XML)")
    if file.stat().st_size > max_bytes:
        raise StudyReadError(
            f"{file}: larger than the {max_bytes / 2**20:,.0f} MiB read at once; export the "
            "records as CSV in parts"
        )
    state = _Parse()
    parser = _parser(state)
    try:
        with file.open("rb") as fh:
            parser.ParseFile(fh)
    except _Unsafe:
        raise StudyReadError(
            f"{file}: has a DOCTYPE or entity declarations, which a REDCap project XML "
            "never has; refused (they can read local files or expand without bound)"
        ) from None
    except expat.ExpatError as exc:
        raise StudyReadError(f"{file}: not well-formed XML ({exc})") from None
    if not state.items:
        raise StudyReadError(f"{file}: no ItemDef: not a REDCap project XML (CDISC ODM)")
    dictionary = dictionary_from_fields(_fields(state), file)
    records = records_from_frame(
        *_records(state, dictionary.record_id), str(file), dictionary, empty_findings()
    )
    codes = (
        parse_missing_codes(state.missing_codes)
        if state.missing_codes
        else dict(REDCAP_MISSING_CODES)
    )
    designations = pl.DataFrame(state.designations, schema=list(DESIGNATION_COLUMNS), orient="row")
    return Project(dictionary, records, designations, codes)


def _parser(state: _Parse) -> expat.XMLParserType:
    p = expat.ParserCreate()
    # the defence defusedxml applies: no DOCTYPE, no entities, no external references
    p.StartDoctypeDeclHandler = _refuse
    p.EntityDeclHandler = _refuse
    p.UnparsedEntityDeclHandler = _refuse
    p.ExternalEntityRefHandler = _refuse
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.buffer_text = True
    p.StartElementHandler = lambda name, attrs: _start(state, p, name, attrs)
    p.EndElementHandler = lambda name: _end(state, name)
    p.CharacterDataHandler = lambda data: (
        state.text.append(data) if state.stack and state.stack[-1] in _TEXT else None
    )
    return p


def _start(state: _Parse, p: expat.XMLParserType, name: str, a: dict[str, str]) -> None:
    state.stack.append(name)
    cur = state.current
    if name in _TEXT:
        state.text = []
    elif name == "ItemDef":
        oid = a.get("OID", "")
        state.items[oid] = a
        state.item_order.append(oid)
        cur["item"] = oid
    elif name == "CodeListRef" and cur.get("item"):
        state.items[cur["item"]]["_codes"] = a.get("CodeListOID", "")
    elif name == "ItemGroupDef":
        cur["group"] = a.get("OID", "")
        state.groups[cur["group"]] = []
    elif name == "ItemRef" and cur.get("group"):
        state.groups[cur["group"]].append(a.get("ItemOID", ""))
    elif name == "FormDef":
        cur["form"] = a.get("OID", "")
        state.forms[cur["form"]] = (a.get("redcap:FormName", cur["form"].removeprefix("Form.")), [])
    elif name == "ItemGroupRef" and cur.get("form"):
        state.forms[cur["form"]][1].append(a.get("ItemGroupOID", ""))
    elif name == "CodeList":
        cur["codes"] = a.get("OID", "")
        state.code_lists[cur["codes"]] = []
        if "redcap:CheckboxChoices" in a:
            state.checkbox_choices[a.get("redcap:Variable", "")] = a["redcap:CheckboxChoices"]
    elif name == "CodeListItem":
        cur["coded"] = a.get("CodedValue", "")
    elif name == "StudyEventDef":
        unique = a.get("redcap:UniqueEventName", a.get("OID", "").removeprefix("Event."))
        cur["event_def"] = unique
        state.events.append((a.get("redcap:ArmNum", "1"), unique, a.get("Name", unique)))
    elif name == "FormRef" and cur.get("event_def"):
        arm = state.events[-1][0]
        form = a.get("redcap:FormName", a.get("FormOID", "").removeprefix("Form."))
        state.designations.append((arm, cur["event_def"], form))
    elif name == "redcap:RepeatingInstrument":
        state.repeating.add((a.get("redcap:UniqueEventName"), a.get("redcap:RepeatInstrument", "")))
    elif name == "MetaDataVersion":
        state.record_id = a.get("redcap:RecordIdField")
    elif name == "SubjectData":
        cur.update(subject=a.get("SubjectKey"), dag=a.get("redcap:DataAccessGroup"))
    elif name == "StudyEventData":
        cur.update(
            event=a.get(
                "redcap:UniqueEventName", a.get("StudyEventOID", "").removeprefix("Event.")
            ),
            event_repeat=a.get("StudyEventRepeatKey"),
        )
    elif name == "FormData":
        _form_data(state, p, a)
    elif name == "ItemData":
        state.cells["key"].append(cur["row"])
        state.cells["item"].append(a.get("ItemOID", ""))
        state.cells["value"].append(a.get("Value"))


def _form_data(state: _Parse, p: expat.XMLParserType, a: dict[str, str]) -> None:
    """The record row a form's items go to: a repeat instance of a repeating instrument is
    a row of its own; other forms share the row of their event (and event instance)."""
    cur = state.current
    form = a.get("redcap:FormName") or a.get("FormOID", "").removeprefix("Form.")
    instance = a.get("FormRepeatKey") or "1"
    repeating = (cur.get("event"), form) in state.repeating or (None, form) in state.repeating
    repeating = repeating or instance != "1"
    if repeating:
        key = (cur["subject"], cur.get("event"), form, instance)
    else:
        event_instance = cur.get("event_repeat")
        key = (
            cur["subject"],
            cur["event"],
            None,
            None if event_instance in (None, "1") else event_instance,
        )
    if key not in state.rows:
        state.rows[key] = {"line": p.CurrentLineNumber, "dag": cur.get("dag")}
    cur["row"] = key  # type: ignore[assignment]


def _end(state: _Parse, name: str) -> None:
    state.stack.pop()
    cur = state.current
    text = "".join(state.text).strip()
    if name == "TranslatedText":
        parent = state.stack[-1] if state.stack else ""
        if parent == "Question" and cur.get("item"):
            state.items[cur["item"]]["_label"] = text
        elif parent == "Decode" and cur.get("codes"):
            state.code_lists[cur["codes"]].append((cur.get("coded") or "", text))
    elif name == "redcap:MissingDataCodes":
        state.missing_codes = text
    elif name in ("ItemDef", "ItemGroupDef", "FormDef", "CodeList", "StudyEventDef"):
        cur.pop(
            {
                "ItemDef": "item",
                "ItemGroupDef": "group",
                "FormDef": "form",
                "CodeList": "codes",
                "StudyEventDef": "event_def",
            }[name],
            None,
        )


def _fields(state: _Parse) -> pl.DataFrame:
    """The dictionary, fields in form order; a checkbox's field___code items are one field;
    each form's <form>_complete item is its status, not a field."""
    form_of = {
        item: form_name
        for form_name, group_ids in state.forms.values()
        for g in group_ids
        for item in state.groups.get(g, [])
    }
    rows, seen = [], set()
    order = [
        oid for _, groups in state.forms.values() for g in groups for oid in state.groups.get(g, [])
    ]
    for oid in order or state.item_order:  # dictionary fields
        a = state.items.get(oid, {})
        variable = a.get("redcap:Variable", a.get("Name", oid))
        form = form_of.get(oid, "")
        if variable in seen or variable == f"{form}_complete":
            continue
        seen.add(variable)
        row = {"field_name": variable, "form_name": form, "field_label": a.get("_label")}
        row |= {col: a.get(attr) for attr, col in _ITEM_ATTRIBUTES.items()}
        kind = row.get("field_type") or "text"
        if kind == "checkbox":
            row["select_choices_or_calculations"] = state.checkbox_choices.get(variable)
        elif kind in ("dropdown", "radio", "select") and a.get("_codes"):
            items = state.code_lists.get(a["_codes"], [])
            row["select_choices_or_calculations"] = " | ".join(f"{c}, {lab}" for c, lab in items)
        row["field_type"] = "dropdown" if kind == "select" else kind
        rows.append(row)
    frame = pl.DataFrame(
        rows,
        schema=dict.fromkeys(
            ["field_name", "form_name", "field_label", *_ITEM_ATTRIBUTES.values()], pl.Utf8
        ),
    )
    for name in HEADERS.values():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(name))
    return frame.select(list(HEADERS.values())).with_columns(
        pl.col("field_type").str.to_lowercase(),
        pl.int_range(1, pl.len() + 1).cast(pl.Int64).alias("_row"),
    )


def _records(state: _Parse, record_id: str) -> tuple[pl.DataFrame, pl.Series]:
    """Record rows from the ItemData cells: one pivot, not a loop over rows."""
    keys = list(state.rows)
    index = {k: i for i, k in enumerate(keys)}
    rows = pl.DataFrame(
        {
            record_id: [k[0] for k in keys],
            EVENT: [k[1] for k in keys],
            REPEAT_INSTRUMENT: [k[2] for k in keys],
            REPEAT_INSTANCE: [k[3] for k in keys],
            DAG: [state.rows[k]["dag"] for k in keys],
            "_line": [state.rows[k]["line"] for k in keys],
        },
        schema={
            record_id: pl.Utf8,
            EVENT: pl.Utf8,
            REPEAT_INSTRUMENT: pl.Utf8,
            REPEAT_INSTANCE: pl.Utf8,
            DAG: pl.Utf8,
            "_line": pl.Int64,
        },
    ).with_row_index("_key")
    cells = pl.DataFrame(
        {
            "_key": pl.Series([index[k] for k in state.cells["key"]], dtype=pl.UInt32),
            "item": pl.Series(state.cells["item"], dtype=pl.Utf8),
            "value": pl.Series(state.cells["value"], dtype=pl.Utf8),
        }
    ).filter(pl.col("item") != record_id)
    if cells.height:
        wide = cells.pivot(on="item", index="_key", values="value", aggregate_function="first")
        rows = rows.join(wide, on="_key", how="left")
    dag_given = rows[DAG].null_count() < rows.height
    frame = rows.drop("_key", "_line") if dag_given else rows.drop("_key", "_line", DAG)
    return frame, rows["_line"]
