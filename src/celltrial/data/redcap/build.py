"""A REDCap project and a mapping in, a StudyData out: cells cleaned (cells.py), every table
built from whole columns of the record export (one Polars pass per mapped field or table,
never a loop per record), typed and converted by conform_table as a study folder is, then
checked by the standard validate(). Findings name the REDCap file, its row, the field and
the record, event and instance, not the table row nobody has seen."""

from __future__ import annotations

import difflib
import string
from dataclasses import dataclass

import polars as pl

from celltrial.data.findings import (
    ERROR,
    WARNING,
    Finding,
    Findings,
    concat_findings,
    empty_findings,
    findings_frame,
)
from celltrial.data.folder import conform_table
from celltrial.data.redcap.cells import clean_cells
from celltrial.data.redcap.mapping import (
    AnalyteMap,
    ColumnSpec,
    LocatedMapping,
    MappingError,
    MappingIssue,
    TableMap,
)
from celltrial.data.redcap.project import Project
from celltrial.data.redcap.records import (
    DAG,
    EVENT,
    RECORD,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    ROW,
    WHERE,
)
from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData, StudyMeta
from celltrial.data.validation import validate

PLACE = [RECORD, EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
FIELD = "_field"  # per measurement row: the field its value came from
TIME_FIELD = "_time_field"
_FORM = "_form"  # the repeat instrument as a form name
COMPLETE = ("1", "2", "Unverified", "Complete")  # REDCap form status 1 and 2, raw or label
_ENTRY = ("analyte", "value", "unit", "value_as_entered", "unit_as_entered")


@dataclass(frozen=True)
class Imported:
    study: StudyData
    findings: Findings  # reading, typing and validate(), named by REDCap file, row, field
    unmapped: list[str]  # dictionary fields the mapping does not name


def import_redcap(project: Project, located: LocatedMapping) -> Imported:
    """The study the mapping makes of the project; MappingError when the mapping does not fit
    the project (a field, form or event it does not have)."""
    check_mapping(project, located)
    m = located.mapping
    rid = project.records.record_id
    records = project.records.frame.with_columns(
        pl.col(REPEAT_INSTRUMENT).str.to_lowercase().str.replace_all(r"\s+", "_").alias(_FORM),
        pl.col(rid).alias(RECORD),
    )
    mapped = _mapped_columns(located)
    records, cell_findings = clean_cells(records, project, located, mapped)
    tables: dict[str, pl.DataFrame] = {}
    sources: dict[str, pl.DataFrame] = {}
    found = [project.findings, cell_findings]
    for name, table in m.tables.items():  # the eight tables at most
        text, source, notes = _table_rows(records, name, table, located, rid)
        tables[name], sources[name] = text, source
        found.append(notes)
    if m.analytes:
        text, source = _analyte_rows(records, m.analytes, located, rid)
        if "measurements" in tables:
            text = pl.concat([tables["measurements"], text], how="diagonal_relaxed")
            source = pl.concat([sources["measurements"], source], how="diagonal_relaxed")
        tables["measurements"], sources["measurements"] = text, source
    typed: dict[str, pl.DataFrame] = {}
    for name, text in tables.items():
        typed[name], typing = _typed(name, text)
        found.append(typing)
    meta = StudyMeta(
        study_id=m.study_id,
        protocol=m.protocol,
        title=m.title,
        simulated=m.simulated,
        simulator=m.simulator,
    )
    study = StudyData(meta=meta, **typed, load_findings=concat_findings(found))
    findings = _at_redcap(validate(study).frame, sources, located, project.records.file)
    findings = _first_error_per_cell(findings)
    return Imported(study, Findings(findings), _unmapped(project, located))


# ---------------------------------------------------------------- the mapping fits


def check_mapping(project: Project, located: LocatedMapping) -> None:
    m, d = located.mapping, project.dictionary
    columns = set(d.record_columns()) | {d.record_id}
    kinds = d.types()
    issues: list[MappingIssue] = []
    for where_, name in m.fields():  # the fields the mapping names
        if kinds.get(name) == "checkbox":
            issues.append(
                located.issue(
                    where_, f"{name} is a checkbox field: name one choice as {name}___CODE"
                )
            )
        elif name not in columns:
            close = difflib.get_close_matches(name, sorted(columns), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            issues.append(
                located.issue(where_, f"no field {name!r} in the data dictionary {d.file}{hint}")
            )
    forms = d.forms
    for table, spec in m.tables.items():
        if spec.form not in forms:
            issues.append(
                located.issue(
                    ("tables", table, "form"),
                    f"no form {spec.form!r} in the data dictionary (forms: {', '.join(forms)})",
                )
            )
    known_events = set(project.designations["unique_event_name"].to_list())
    if known_events:
        for event in m.events:
            if event not in known_events:
                issues.append(
                    located.issue(
                        ("events", event), f"no event {event!r} in the instrument designations"
                    )
                )
    if issues:
        raise MappingError(issues)


def _mapped_columns(located: LocatedMapping) -> list[str]:
    return list(dict.fromkeys(name for _, name in located.mapping.fields()))


def _unmapped(project: Project, located: LocatedMapping) -> list[str]:
    named = {n.split("___")[0] for n in _mapped_columns(located)}
    fields = project.dictionary.fields.filter(pl.col("field_type") != "descriptive")
    return [f for f in fields["field_name"].to_list() if f not in named]


# ---------------------------------------------------------------- tables


def _origin(spec: ColumnSpec, located: LocatedMapping, rid: str) -> pl.Expr:
    """The column's text per row; codes (REDCap value -> StudyData value) applied last."""
    if spec.value is not None:
        return pl.lit(spec.value, pl.Utf8)
    sources = {
        "@record": pl.col(rid),
        "@event": _visit(located),
        "@dag": pl.col(DAG),
        "@instance": pl.col(REPEAT_INSTANCE),
    }
    if spec.source is not None:
        cell = sources[spec.source]
    elif spec.template is not None:
        cell = _template(spec.template, rid)
    else:
        cell = pl.col(spec.field)
    return cell.replace(spec.codes) if spec.codes else cell


def _template(template: str, rid: str) -> pl.Expr:
    sources = {"record": pl.col(rid), "event": pl.col(EVENT), "instance": pl.col(REPEAT_INSTANCE)}
    sources["dag"] = pl.col(DAG)
    parts: list[pl.Expr] = []
    for text, name, _, _ in string.Formatter().parse(template):  # a few pieces
        if text:
            parts.append(pl.lit(text))
        if name:
            parts.append(sources.get(name, pl.col(name)).fill_null(""))
    return pl.concat_str(parts)


def _visit(located: LocatedMapping) -> pl.Expr:
    return pl.col(EVENT).replace_strict(located.mapping.events, default=None, return_dtype=pl.Utf8)


def _table_rows(
    records: pl.DataFrame, name: str, table: TableMap, located: LocatedMapping, rid: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The rows of the form: its repeat instances, or the rows where it holds data."""
    fields = [f for s in table.columns.values() for f in s.fields() if f in records.columns]
    status = f"{table.form}_complete"
    filled = pl.any_horizontal([pl.col(f).is_not_null() for f in fields] or [pl.lit(False)])
    if status in records.columns:
        filled = filled | pl.col(status).is_in(COMPLETE)
    mine = (pl.col(_FORM).is_null() | (pl.col(_FORM) == table.form)) & filled
    rows = records.filter(mine)
    absent = {f for s in table.columns.values() for f in s.fields() if f not in records.columns}
    rows = rows.with_columns(pl.lit(None, pl.Utf8).alias(f) for f in sorted(absent))
    text = rows.select(
        _origin(spec, located, rid).cast(pl.Utf8).alias(column)
        for column, spec in table.columns.items()
    )
    source = rows.select(ROW, *PLACE)
    notes = _unmapped_events(rows, table, located, name)
    return text, source, notes


def _unmapped_events(
    rows: pl.DataFrame, table: TableMap, located: LocatedMapping, name: str
) -> pl.DataFrame:
    uses_event = any(s.source == "@event" for s in table.columns.values())
    if not uses_event or rows.height == 0:
        return empty_findings()
    events = (
        rows.filter(
            pl.col(EVENT).is_not_null() & ~pl.col(EVENT).is_in(list(located.mapping.events))
        )
        .group_by(EVENT, maintain_order=True)
        .agg(pl.len().alias("n"), pl.col(ROW).first())
    )
    notes = [
        Finding(
            WARNING,
            name,
            None,
            "visit_id",
            event,
            f"event {event!r} is not mapped to a visit (mapping key 'events'): its {n} "
            f"{name} row(s) have no visit_id (first at records row {row})",
            located.file,
        )
        for event, n, row in events.iter_rows()  # distinct events, a handful
    ]
    return findings_frame(notes)


def _analyte_rows(
    records: pl.DataFrame, analytes: list[AnalyteMap], located: LocatedMapping, rid: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One measurement per filled analyte field (a wide lab form becomes the long table)."""
    texts, sources = [], []
    for a in analytes:  # the mapping's analytes, a few dozen at most
        rows = records.filter(pl.col(a.field).is_not_null())
        unit = pl.lit(a.unit, pl.Utf8) if a.unit is not None else pl.col(a.unit_field)
        fasting = None if a.fasting is None else str(a.fasting).lower()
        texts.append(
            rows.select(
                pl.col(rid).alias("participant_id"),
                _visit(located).alias("visit_id"),
                pl.col(a.time_field).alias("time"),
                pl.lit(a.analyte).alias("analyte"),
                pl.col(a.field).alias("value_as_entered"),
                unit.alias("unit_as_entered"),
                pl.lit(fasting, pl.Utf8).alias("fasting"),
                pl.lit("import").alias("source"),
            )
        )
        sources.append(
            rows.select(
                ROW,
                *PLACE,
                pl.lit(a.field).alias(FIELD),
                pl.lit(a.time_field).alias(TIME_FIELD),
                pl.lit(a.unit_field, pl.Utf8).alias("_unit_field"),
            )
        )
    return pl.concat(texts), pl.concat(sources)


def _typed(name: str, text: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The text table typed and in canonical units as a study folder's table is read."""
    typed, found = conform_table(text, TABLES[name], None)
    return typed.select(list(TABLES[name].polars_schema)), found


# ---------------------------------------------------------------- findings at REDCap's cells


def _at_redcap(
    findings: pl.DataFrame, sources: dict[str, pl.DataFrame], located: LocatedMapping, file: str
) -> pl.DataFrame:
    """Findings about built table rows moved to the records file row, the mapped field and
    the record, event and instance; those about a whole column to the mapping file."""
    done = [findings.filter(pl.col("file").is_not_null() | ~pl.col("table").is_in(list(sources)))]
    for name, source in sources.items():  # the mapped tables
        mine = findings.filter(pl.col("file").is_null() & (pl.col("table") == name))
        if mine.height == 0:
            continue
        fields = _column_fields(located, name)
        column = pl.col("column")
        field = column.replace_strict(fields, default=None, return_dtype=pl.Utf8)
        if FIELD in source.columns:
            by_row = (
                pl.when(column.is_in(_ENTRY))
                .then(pl.col(FIELD))
                .when(column == "time")
                .then(pl.col(TIME_FIELD))
            )
            field = pl.coalesce(by_row, field)
        at_rows = mine.filter(pl.col("row").is_not_null()).join(
            source.with_row_index("_i", offset=1).with_columns(pl.col("_i").cast(pl.Int64)),
            left_on="row",
            right_on="_i",
            how="left",
            maintain_order="left",
        )
        done.append(
            at_rows.select(
                "severity",
                "table",
                pl.col(ROW).alias("row"),
                pl.coalesce(field, column).alias("column"),
                "value",
                pl.format("{}: {} ({})", WHERE, pl.col("rule"), pl.lit(name)).alias("rule"),
                pl.lit(file).alias("file"),
            )
        )
        whole = mine.filter(pl.col("row").is_null()).with_columns(
            pl.format(
                "{} (table {}, mapping key tables.{})", pl.col("rule"), pl.lit(name), pl.lit(name)
            ).alias("rule"),
            pl.lit(located.file).alias("file"),
        )
        done.append(whole)
    return concat_findings(done)


def _first_error_per_cell(findings: pl.DataFrame) -> pl.DataFrame:
    """A cell that is wrong (a date that is not one) left its table value empty, and the
    table rules then find it missing: the first error of a cell is the one to fix."""
    errors = findings.filter(pl.col("severity") == ERROR)
    first = pl.int_range(pl.len()).over("file", "row", "column") == 0
    kept = errors.filter(pl.col("row").is_null() | first)
    return concat_findings([kept, findings.filter(pl.col("severity") != ERROR)])


def _column_fields(located: LocatedMapping, table: str) -> dict[str, str]:
    spec = located.mapping.tables.get(table)
    if spec is None:
        return {}
    fields = {column: s.field or s.source or "value" for column, s in spec.columns.items()}
    for stored, entered in (("value", "value_as_entered"), ("unit", "unit_as_entered")):
        if table == "measurements" and stored not in fields and entered in fields:
            fields[stored] = fields[entered]  # the canonical value comes from the entry
    return fields
