"""An export as one REDCap project XML (CDISC ODM 1.3.2 with REDCap's extensions), the file
REDCap's "Create project > Upload a REDCap project XML file" takes. The ClinicalData part is
built as text from whole columns (one unpivot and three group-bys), not element by element.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.sax.saxutils import quoteattr

import polars as pl

from celltrial.data.redcap.dictionary import checkbox_column
from celltrial.data.redcap.export import Export, write_export
from celltrial.data.redcap.odm import ODM_NS, REDCAP_NS
from celltrial.data.redcap.records import DAG, EVENT, REPEAT_INSTANCE, REPEAT_INSTRUMENT

PROJECT_XML = "project.xml"  # the file name `celltrial export redcap` writes it under
_DATA_TYPES = {
    "integer": "integer",
    "number": "float",
    "date_ymd": "date",
    "datetime_seconds_ymd": "datetime",
}


def project_xml(export: Export, study_id: str, title: str | None = None) -> str:
    name = quoteattr(title or study_id)
    oid = quoteattr(f"Project.{study_id}")
    meta = quoteattr(f"Metadata.{study_id}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    head = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        f'<ODM xmlns="{ODM_NS}" xmlns:redcap="{REDCAP_NS}" ODMVersion="1.3.2" '
        f'FileOID={quoteattr(study_id)} FileType="Snapshot" CreationDateTime="{stamp}" '
        'SourceSystem="CellTrial">\n'
        f"<Study OID={oid}>\n<GlobalVariables>\n<StudyName>{_text(title or study_id)}</StudyName>\n"
        f"<StudyDescription>{_text(title or study_id)}</StudyDescription>\n"
        f"<ProtocolName>{_text(title or study_id)}</ProtocolName>\n"
        f"{_repeating(export)}</GlobalVariables>\n"
        f'<MetaDataVersion OID={meta} Name={name} redcap:RecordIdField="record_id">\n'
    )
    body = _events(export) + _forms(export) + _items(export)
    clinical = (
        f"<ClinicalData StudyOID={oid} MetaDataVersionOID={meta}>\n"
        f"{_clinical(export)}</ClinicalData>\n"
    )
    return head + body + "</MetaDataVersion>\n</Study>\n" + clinical + "</ODM>\n"


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _repeating(export: Export) -> str:
    items = "".join(
        f"<redcap:RepeatingInstrument redcap:UniqueEventName={quoteattr(e)} "
        f'redcap:RepeatInstrument={quoteattr(f)} redcap:CustomLabel=""/>\n'
        for e, f in export.repeating.select("event_name", "form_name").iter_rows()
    )
    return (
        "<redcap:RepeatingInstrumentsAndEvents>\n<redcap:RepeatingInstruments>\n"
        f"{items}</redcap:RepeatingInstruments>\n</redcap:RepeatingInstrumentsAndEvents>\n"
    )


def _events(export: Export) -> str:
    forms = export.designations.group_by("unique_event_name", maintain_order=True).agg("form")
    forms_of = dict(forms.iter_rows())
    refs = "".join(
        f'<StudyEventRef StudyEventOID="Event.{u}" OrderNumber="{i}" Mandatory="No"/>\n'
        for i, u in enumerate(export.events["unique_event_name"], start=1)
    )
    out = f"<Protocol>\n{refs}</Protocol>\n"
    for name, arm, day, unique in export.events.select(
        "event_name", "arm_num", "day_offset", "unique_event_name"
    ).iter_rows():  # the events, a handful
        form_refs = "".join(
            f'<FormRef FormOID="Form.{f}" OrderNumber="{i}" Mandatory="No" '
            f'redcap:FormName="{f}"/>\n'
            for i, f in enumerate(forms_of.get(unique, []), start=1)
        )
        out += (
            f'<StudyEventDef OID="Event.{unique}" Name={quoteattr(str(name))} Type="Common" '
            f'Repeating="No" redcap:UniqueEventName="{unique}" redcap:ArmNum="{arm}" '
            f'redcap:DayOffset="{day}">\n{form_refs}</StudyEventDef>\n'
        )
    return out


def _forms(export: Export) -> str:
    d = export.dictionary
    out = ""
    for form in d["Form Name"].unique(maintain_order=True).to_list():  # forms
        fields = d.filter(pl.col("Form Name") == form)
        refs = "".join(
            f'<ItemRef ItemOID="{item}" Mandatory="No" redcap:Variable="{field}"/>\n'
            for field, kind, choices in fields.select(
                "Variable / Field Name", "Field Type", "Choices, Calculations, OR Slider Labels"
            ).iter_rows()
            for item in _item_oids(field, kind, choices or "")
        )
        status = f"{form}_complete"
        refs += f'<ItemRef ItemOID="{status}" Mandatory="No" redcap:Variable="{status}"/>\n'
        label = quoteattr(form.replace("_", " ").capitalize())
        out += (
            f'<FormDef OID="Form.{form}" Name={label} Repeating="No" redcap:FormName="{form}">\n'
            f'<ItemGroupRef ItemGroupOID="{form}.group" Mandatory="No"/>\n</FormDef>\n'
            f'<ItemGroupDef OID="{form}.group" Name={label} Repeating="No">\n'
            f"{refs}</ItemGroupDef>\n"
        )
    return out


def _item_oids(field: str, kind: str, choices: str) -> list[str]:
    if kind != "checkbox":
        return [field]
    return [checkbox_column(field, code) for code in _choice_codes(choices)]


def _choice_codes(choices: str) -> list[str]:
    return [c.split(",", 1)[0].strip() for c in choices.split("|") if c.strip()]


def _code_items(pairs: list) -> str:
    return "".join(
        f"<CodeListItem CodedValue={quoteattr(code)}><Decode><TranslatedText>{_text(label)}"
        "</TranslatedText></Decode></CodeListItem>\n"
        for code, label in pairs
    )


def _item_def(oid: str, data_type: str, attrs: str, label: str, code_list: str | None) -> str:
    ref = f'<CodeListRef CodeListOID="{code_list}"/>\n' if code_list else ""
    return (
        f'<ItemDef OID="{oid}" Name="{oid}" DataType="{data_type}" Length="999" {attrs}>\n'
        f"<Question><TranslatedText>{label}</TranslatedText></Question>\n{ref}</ItemDef>\n"
    )


def _items(export: Export) -> str:
    d = export.dictionary
    items, lists = "", ""
    for row in d.iter_rows(named=True):  # dictionary fields (a few dozen)
        field, kind = row["Variable / Field Name"], row["Field Type"]
        validation = row["Text Validation Type OR Show Slider Number"] or ""
        attrs = f'redcap:Variable="{field}" redcap:FieldType="{kind}"'
        if validation:
            attrs += f' redcap:TextValidationType="{validation}"'
        for key, attr in (
            ("Field Note", "FieldNote"),
            ("Required Field?", "RequiredField"),
            ("Identifier?", "Identifier"),
            ("Field Annotation", "FieldAnnotation"),
            ("Section Header", "SectionHeader"),
        ):
            if row[key]:
                attrs += f" redcap:{attr}={quoteattr(row[key])}"
        label = _text(row["Field Label"] or "")
        choices = row["Choices, Calculations, OR Slider Labels"] or ""
        if kind == "checkbox":  # REDCap: one boolean item per choice, field___code
            for code in _choice_codes(choices):
                oid = checkbox_column(field, code)
                items += _item_def(oid, "boolean", attrs, label, f"{oid}.choices")
                lists += (
                    f'<CodeList OID="{oid}.choices" Name="{oid}" DataType="boolean" '
                    f'redcap:Variable="{field}" redcap:CheckboxChoices={quoteattr(choices)}>\n'
                    f"{_code_items([('1', 'Checked'), ('0', 'Unchecked')])}</CodeList>\n"
                )
            continue
        data_type = "boolean" if kind == "yesno" else _DATA_TYPES.get(validation, "text")
        code_list = None
        if kind in ("dropdown", "radio"):
            code_list = f"{field}.choices"
            pairs = [tuple(x.strip() for x in c.split(",", 1)) for c in choices.split("|")]
            lists += (
                f'<CodeList OID="{code_list}" Name="{field}" DataType="text" '
                f'redcap:Variable="{field}">\n{_code_items(pairs)}</CodeList>\n'
            )
        items += _item_def(field, data_type, attrs, label, code_list)
    for form in d["Form Name"].unique(maintain_order=True).to_list():  # status items
        items += (
            f'<ItemDef OID="{form}_complete" Name="{form}_complete" DataType="text" '
            f'Length="1" redcap:Variable="{form}_complete" redcap:FieldType="select">\n'
            "<Question><TranslatedText>Complete?</TranslatedText></Question>\n</ItemDef>\n"
        )
    return items + lists


def _escaped(value: pl.Expr) -> pl.Expr:
    return (
        value.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&quot;", literal=True)
        .str.replace_all("\n", "&#10;", literal=True)
    )


def _clinical(export: Export) -> str:
    """SubjectData > StudyEventData > FormData > ItemGroupData > ItemData, from the records
    by whole columns: every filled cell one ItemData line, grouped up the tree."""
    records = export.records.with_row_index("_r")
    keys = ["_r", "record_id", EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    forms = dict(export.dictionary.select("Variable / Field Name", "Form Name").iter_rows())
    forms |= {f"{f}_complete": f for f in set(forms.values())}
    long = (
        records.unpivot(index=keys, variable_name="item", value_name="value")
        .filter(pl.col("value").is_not_null())
        .with_columns(
            # a checkbox choice's column (field___code) belongs to its field's form
            pl.col("item")
            .str.replace(r"___[^_].*$|____.*$", "")
            .replace_strict(forms, default=None)
            .alias("form")
        )
        .filter(pl.col("form").is_not_null())
    )
    item = pl.format(
        '<ItemData ItemOID="{}" Value="{}"/>', pl.col("item"), _escaped(pl.col("value"))
    )
    form_xml = long.group_by([*keys, "form"], maintain_order=True).agg(
        item.str.join("\n").alias("x")
    )
    repeat = pl.coalesce(pl.col(REPEAT_INSTANCE), pl.lit("1"))
    form_xml = form_xml.select(
        "_r",
        "record_id",
        EVENT,
        pl.format(
            '<FormData FormOID="Form.{}" FormRepeatKey="{}">\n'
            '<ItemGroupData ItemGroupOID="{}.group" '
            'ItemGroupRepeatKey="1">\n{}\n</ItemGroupData>\n</FormData>',
            pl.col("form"),
            repeat,
            pl.col("form"),
            pl.col("x"),
        ).alias("x"),
    )
    events = form_xml.group_by("record_id", EVENT, maintain_order=True).agg(
        pl.col("x").str.join("\n")
    )
    events = events.select(
        "record_id",
        pl.format(
            '<StudyEventData StudyEventOID="Event.{}" StudyEventRepeatKey="1" '
            'redcap:UniqueEventName="{}">\n{}\n</StudyEventData>',
            pl.col(EVENT),
            pl.col(EVENT),
            pl.col("x"),
        ).alias("x"),
    )
    subjects = events.group_by("record_id", maintain_order=True).agg(pl.col("x").str.join("\n"))
    dag = pl.lit("")
    if DAG in records.columns:  # a record's data access group, on its SubjectData
        groups = records.group_by("record_id").agg(pl.col(DAG).drop_nulls().first())
        subjects = subjects.join(groups, on="record_id", how="left", maintain_order="left")
        given = pl.format(' redcap:DataAccessGroup="{}"', _escaped(pl.col(DAG)))
        dag = pl.coalesce(given, pl.lit(""))
    lines = subjects.select(
        pl.format(
            '<SubjectData SubjectKey="{}" redcap:RecordIdField="record_id"{}>\n{}\n</SubjectData>',
            _escaped(pl.col("record_id")),
            dag,
            pl.col("x"),
        )
    ).to_series()
    return "\n".join(lines.to_list()) + "\n"


def write_project(export: Export, folder: Path, study_id: str, title: str | None) -> None:
    """The import files, mapping.yaml and project.xml into `folder`: what `celltrial export
    redcap` and the registry's download write (the caller makes the folder atomic)."""
    write_export(export, folder)
    xml = project_xml(export, study_id, title)
    (folder / PROJECT_XML).write_text(xml, encoding="utf-8")
