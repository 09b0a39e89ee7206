"""A first mapping from a data dictionary: field names and labels matched to the analyte
catalogue (units from the label, the field note or a unit field beside the value), the
participant attributes found by name, events guessed as visits. A person then corrects it:
every guess carries a '# check' comment, and the import refuses what does not fit."""

from __future__ import annotations

import re

import polars as pl
import yaml

from celltrial.clinical.analytes import ANALYTES
from celltrial.data.redcap.project import Project
from celltrial.data.redcap.records import DAG

# Other names centres give the catalogue's analytes (spellings seen in CRFs; the catalogue's
# own id and name are always tried first)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "hba1c": ("a1c", "glycated haemoglobin", "glycated hemoglobin", "glycosylated"),
    "fpg": ("fbg", "fasting glucose", "fasting blood glucose", "fasting blood sugar", "fbs"),
    "pg2h": ("2h pg", "2hpg", "2-h glucose", "postprandial glucose", "2hpbg", "ppg"),
    "fcp": ("fasting c-peptide", "fasting c peptide", "c-peptide", "c peptide", "cpep"),
    "cp2h": ("2h c-peptide", "2-h c-peptide", "2hcp"),
    "fins": ("fasting insulin", "insulin"),
    "hscrp": ("hs-crp", "crp"),
    "creatinine": ("creat", "serum creatinine"),
    "leukocytes": ("wbc", "white blood cell", "leucocytes"),
    "ca199": ("ca19-9", "ca 19-9"),
}
# participant columns found by a field name or label (regular expressions, case-insensitive)
PARTICIPANT_FIELDS = {
    "sex": r"\b(sex|gender)\b",
    "birth_date": r"\b(dob|birth|date_of_birth)",
    "age": r"^age\b|\bage\b",
    "enrollment_date": r"enrol|enroll|consent_date|randomi[sz]",
    "height_cm": r"height",
    "diabetes_duration_years": r"duration",
    "site_id": r"\bsite\b|centre|center",
}
# REDCap's numeric validation types (a lab value is a number or a text field without one)
NUMERIC = ("number", "integer", "number_1dp", "number_2dp", "number_3dp", "number_4dp", "float")
_UNIT_IN_TEXT = re.compile(r"\(([^()]+)\)\s*$|\[([^\[\]]+)\]\s*$|in ([^\s]+)\s*$")


def draft_mapping(project: Project, study_id: str = "redcap-study") -> str:
    """The mapping YAML text (with '# check' comments on guesses)."""
    d = project.dictionary
    fields = d.fields.filter(pl.col("field_type") != "descriptive")
    checks: dict[str, str] = {}
    # participant attributes first: "height" on the demographics form is height_cm,
    # not a height measurement
    participants = _participants(fields, project, checks)
    columns = participants["columns"].values() if participants else []
    taken = {c["field"] if isinstance(c, dict) else c for c in columns}
    analytes = _analytes(fields.filter(~pl.col("field_name").is_in(list(taken))), checks)
    doc: dict[str, object] = {
        "celltrial_mapping": 1,
        "study_id": study_id,
        "record_id": d.record_id,
        "events": _events(project, checks),
    }
    if participants:
        doc["tables"] = {"participants": participants}
    doc["analytes"] = analytes
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    lines = [_commented(line, checks) for line in text.splitlines()]
    head = "# Draft mapping written by `celltrial import redcap --draft-mapping`: check every\n"
    head += "# line marked '# check', then import with --mapping.\n"
    return head + "\n".join(lines) + "\n"


def _commented(line: str, checks: dict[str, str]) -> str:
    for key, note in checks.items():  # the guesses, a few dozen
        if line.strip() in (key, f"- {key}"):
            return f"{line}  # check: {note}"
    return line


def _analytes(fields: pl.DataFrame, checks: dict[str, str]) -> list[dict]:
    names = fields["field_name"].to_list()
    out: list[dict] = []
    rows = fields.select(
        "field_name",
        "form_name",
        "field_label",
        "field_note",
        "text_validation_type_or_show_slider_number",
        "field_type",
    ).iter_rows()
    for name, form, label, note, validation, kind in rows:  # dictionary fields
        if kind not in ("text", "calc") or (validation or "number") not in NUMERIC:
            continue
        analyte = _analyte_of(name, label or "")
        if analyte is None:
            continue
        entry: dict[str, object] = {"field": name, "analyte": analyte}
        unit_field = next((u for u in (f"{name}_unit", f"{name}_units") if u in names), None)
        unit = _unit_of(analyte, label or "", note or "")
        if unit_field:
            entry["unit_field"] = unit_field
        else:
            entry["unit"] = unit or ANALYTES[analyte].unit
            if unit is None:
                checks[f"unit: {ANALYTES[analyte].unit}"] = "no unit in the label; canonical"
        entry["time_field"] = _time_field(fields, form)
        checks[f"field: {name}"] = f"matched to {analyte} ({ANALYTES[analyte].name})"
        out.append(entry)
    return out


def _analyte_of(name: str, label: str) -> str | None:
    text = f" {name.lower()} | {label.lower()} "
    if name.lower() in ANALYTES:
        return name.lower()
    for analyte_id, a in ANALYTES.items():  # the catalogue, a few dozen analytes
        words = (a.name.lower(), *SYNONYMS.get(analyte_id, ()))
        if any(re.search(rf"(^|[^a-z0-9]){re.escape(w)}([^a-z0-9]|$)", text) for w in words):
            return analyte_id
    return None


def _unit_of(analyte: str, label: str, note: str) -> str | None:
    accepted = {u.lower(): u for u in ANALYTES[analyte].accepted_units()}
    for text in (label, note):
        hit = _UNIT_IN_TEXT.search(text.strip())
        if hit:
            unit = next(g for g in hit.groups() if g).strip().lower()
            unit = unit.replace("µ", "u").replace("μ", "u")
            if unit in accepted:
                return accepted[unit]
    return None


def _time_field(fields: pl.DataFrame, form: str) -> str:
    dated = fields.filter(
        pl.col("text_validation_type_or_show_slider_number").str.starts_with("date")
    )
    same = dated.filter(pl.col("form_name") == form)
    pick = same if same.height else dated
    return pick["field_name"][0] if pick.height else "CHOOSE_A_DATE_FIELD"


def _participants(fields: pl.DataFrame, project: Project, checks: dict[str, str]) -> dict | None:
    columns: dict[str, object] = {"participant_id": "@record"}
    choices = project.dictionary.choices()
    form = project.dictionary.forms[0]  # the form REDCap opens a record with
    first_form = fields.filter(pl.col("form_name") == form)
    for column, pattern in PARTICIPANT_FIELDS.items():  # a few participant attributes
        hits = first_form.filter(
            pl.col("field_name").str.contains(f"(?i){pattern}")
            | pl.col("field_label").fill_null("").str.contains(f"(?i){pattern}")
        )
        if hits.height == 0:
            continue
        name = hits["field_name"][0]
        checks[f"{column}: {name}"] = "guessed from the field name or label"
        if column == "sex":
            columns[column] = {"field": name, "codes": _sex_codes(choices, name)}
            checks.pop(f"{column}: {name}")
            checks[f"field: {name}"] = "sex codes guessed from the labels"
        else:
            columns[column] = name
    if "site_id" not in columns and DAG in project.records.frame.columns:
        columns["site_id"] = "@dag"
    if len(columns) == 1:
        return None
    return {"form": form, "columns": columns}


def _sex_codes(choices: pl.DataFrame, name: str) -> dict[str, str]:
    mine = choices.filter(pl.col("field_name") == name)
    codes = {}
    for code, label in mine.select("code", "label").iter_rows():  # two or three choices
        first = (label or "").strip().lower()[:1]
        if first in ("m", "f"):
            codes[code] = first.upper()
    return codes


def _events(project: Project, checks: dict[str, str]) -> dict[str, str]:
    names = project.designations["unique_event_name"].unique(maintain_order=True).to_list()
    if not names:
        from_data = project.records.frame["redcap_event_name"].drop_nulls()
        names = from_data.unique(maintain_order=True).to_list()
    events = {}
    for name in names:  # the project's events
        visit = guess_visit(name)
        events[name] = visit
        checks[f"{name}: {visit}"] = "visit id guessed from the event name"
    return events


def guess_visit(event: str) -> str:
    """d0 for a baseline event, dN for 'day N', d(7N) for 'week N', mN for 'month N'."""
    text = re.sub(r"_arm_\d+$", "", event.lower())
    if "baseline" in text:
        return "d0"
    for pattern, visit in (
        (r"(?:day|^d)_?(\d+)", "d{}"),
        (r"(?:week|^w|wk)_?(\d+)", "week"),
        (r"(?:month|^m)_?(\d+)", "m{}"),
    ):
        hit = re.search(pattern, text)
        if hit:
            n = int(hit.group(1))
            return f"d{7 * n}" if visit == "week" else visit.format(n)
    return text
