"""The mapping YAML: which REDCap field becomes which StudyData column, which field holds
an analyte (with its unit, or the field holding the unit), which event is which visit.

    celltrial_mapping: 1
    study_id: lian-site-a
    protocol: lian2022
    record_id: record_id
    events: {baseline_arm_1: d0, day_28_arm_1: d28}
    tables:
      participants:
        form: demographics
        columns:
          participant_id: "@record"      # the record id
          site_id: "@dag"                # redcap_data_access_group
          sex: {field: sex, codes: {"1": M, "2": F}}
    analytes:
      - {field: hba1c, analyte: hba1c, unit: "%", time_field: lab_date}

A column is a field name, "@record", "@event" (the visit the event maps to), "@dag",
"@instance", {field, codes}, {value} (a constant) or {template: "{record}-AE{instance}"}.
Errors name the file, line and key.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from celltrial.clinical.analytes import ANALYTES
from celltrial.data.schema import TABLES

SOURCES = ("@record", "@event", "@dag", "@instance")
TEMPLATE_SOURCES = ("record", "event", "instance", "dag")
Located = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    field: str | None = None
    source: Literal["@record", "@event", "@dag", "@instance"] | None = None
    codes: dict[str, str] = Field(default_factory=dict)  # REDCap code -> StudyData value
    value: str | None = None  # the same value in every row
    # text built per row from {record}, {event}, {instance} and field names, e.g.
    # "{record}-AE{instance}" for an id the project does not hold
    template: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, str):
            return {"source": data} if data.startswith("@") else {"field": data}
        return data

    def fields(self) -> list[str]:
        """The REDCap fields this column reads."""
        if self.field is not None:
            return [self.field]
        return [f for f in template_names(self.template or "") if f not in TEMPLATE_SOURCES]

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnSpec:
        given = [x for x in (self.field, self.source, self.value, self.template) if x is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of a field, one of {', '.join(SOURCES)}, value or template"
            )
        return self


class TableMap(_Strict):
    form: str = Field(min_length=1)  # the instrument whose rows become this table's rows
    columns: dict[str, ColumnSpec]


class AnalyteMap(_Strict):
    field: str
    analyte: str
    unit: str | None = None
    unit_field: str | None = None
    time_field: str  # the date or date-time field of the sample
    fasting: bool | None = None

    @field_validator("analyte")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ANALYTES:
            raise ValueError(f"unknown analyte {value!r}; known: {', '.join(sorted(ANALYTES))}")
        return value

    @model_validator(mode="after")
    def _unit(self) -> AnalyteMap:
        if (self.unit is None) == (self.unit_field is None):
            raise ValueError("give exactly one of unit (the unit of every value) or unit_field")
        accepted = ANALYTES[self.analyte].accepted_units()
        if self.unit is not None and self.unit.lower() not in {u.lower() for u in accepted}:
            raise ValueError(
                f"unit {self.unit!r} is not accepted for {self.analyte} "
                f"(accepted: {', '.join(accepted)})"
            )
        return self


class Mapping(_Strict):
    celltrial_mapping: Literal[1] = 1
    study_id: str = Field(min_length=1)
    protocol: str | None = None
    title: str | None = None
    # a simulated study stays labelled as simulated through REDCap (StudyMeta.simulated)
    simulated: bool | None = None
    simulator: dict[str, object] | None = None
    record_id: str = Field(min_length=1)
    events: dict[str, str] = Field(default_factory=dict)  # event (unique name) -> visit_id
    missing_codes: dict[str, str] | None = None  # code -> label; None: the project's
    tables: dict[str, TableMap] = Field(default_factory=dict)
    analytes: list[AnalyteMap] = Field(default_factory=list)

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, tables: dict[str, TableMap]) -> dict[str, TableMap]:
        for name, table in tables.items():  # the eight tables at most
            if name not in TABLES:
                raise ValueError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
            known = TABLES[name].polars_schema
            for column in table.columns:
                if column not in known:
                    raise ValueError(
                        f"{name} has no column {column!r}; columns: {', '.join(known)}"
                    )
        return tables

    def fields(self) -> list[tuple[Located, str]]:
        """Every REDCap field the mapping names, with where it names it."""
        out: list[tuple[Located, str]] = [(("record_id",), self.record_id)]
        for name, table in self.tables.items():
            for column, spec in table.columns.items():
                where = ("tables", name, "columns", column)
                out += [(where, f) for f in spec.fields()]
        for i, a in enumerate(self.analytes):
            out += [
                (("analytes", i, "field"), a.field),
                (("analytes", i, "time_field"), a.time_field),
            ]
            if a.unit_field:
                out.append((("analytes", i, "unit_field"), a.unit_field))
        return out


def template_names(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


@dataclass(frozen=True)
class MappingIssue:
    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        head = f"{self.file}:{self.line}" if self.line else self.file
        return f"{head}: key {self.key}: {self.message}" if self.key else f"{head}: {self.message}"


class MappingError(ValueError):
    """A mapping that cannot be used; `issues` lists every problem with its line."""

    def __init__(self, issues: list[MappingIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass(frozen=True)
class LocatedMapping:
    mapping: Mapping
    file: str
    lines: dict[Located, int]

    def issue(self, where: Located, message: str) -> MappingIssue:
        return MappingIssue(self.file, _line(where, self.lines), _dotted(where), message)


def load_mapping(path: str | Path) -> LocatedMapping:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError([MappingIssue(str(file), 0, "", f"cannot read: {exc}")]) from None
    return parse_mapping(text, str(file))


def parse_mapping(text: str, file: str = "<mapping>") -> LocatedMapping:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError([MappingIssue(file, line, "", f"YAML syntax: {problem}")]) from None
    if not isinstance(root, yaml.MappingNode):
        raise MappingError([MappingIssue(file, 1, "", "the mapping must be a YAML mapping")])
    lines: dict[Located, int] = {(): 1}
    _index(root, (), lines)
    try:
        mapping = Mapping.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise MappingError([_issue(err, lines, file) for err in exc.errors()]) from None
    return LocatedMapping(mapping, file, lines)


def _issue(err: dict, lines: dict[Located, int], file: str) -> MappingIssue:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function")))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (not part of the mapping format)"
    elif err["type"] == "missing":
        msg = f"missing required key {loc[-1]!r}"
    return MappingIssue(file, _line(loc, lines), _dotted(loc), msg)


def _index(node: yaml.Node, path: Located, lines: dict[Located, int]) -> None:
    """The line of every key path (PyYAML keeps each node's position)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(*path, str(key.value))] = key.start_mark.line + 1
            _index(value, (*path, str(key.value)), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines)


def _line(loc: Located, lines: dict[Located, int]) -> int:
    for end in range(len(loc), -1, -1):  # the deepest part of the path in the file
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _dotted(loc: Located) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
