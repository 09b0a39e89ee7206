"""SPSS (.sav) and Stata (.dta) files of a study, wide by visit and long, with variable
labels, value labels and (SPSS) measurement levels, via pyreadstat (ReadStat)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
import pyreadstat

from celltrial.analysis.plan import AnalysisPlan
from celltrial.clinical.analytes import ANALYTES
from celltrial.data.study import StudyData
from celltrial.exchange.visit_table import ATTRIBUTES, long_by_visit, wide_by_visit

Shape = Literal["wide", "long"]

ATTRIBUTE_LABELS = {
    "participant_id": "Participant",
    "site_id": "Site",
    "arm": "Study arm",
    "sex": "Sex",
    "age": "Age at enrolment (years)",
    "diabetes_duration_years": "Diabetes duration (years)",
    "visit": "Visit",
    "visit_id": "Visit code",
    "visit_day": "Planned study day of the visit",
}
SEX_CODES = {"M": 1, "F": 2}  # numeric, so the value labels survive in Stata (integers only)
NOMINAL = ("participant_id", "site_id", "arm", "sex", "visit_id")
# Stata: names of at most 32 characters, letters, digits and underscores, not starting with a
# digit; variable labels of at most 80 characters (Stata 15+ manual, [D] label; [U] 11.3).
STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
STATA_LABEL_MAX = 80


@dataclass(frozen=True)
class LabelledTable:
    """A table with what a statistics package shows beside it."""

    frame: pl.DataFrame
    labels: dict[str, str]
    value_labels: dict[str, dict[int, str]]
    measures: dict[str, str]  # SPSS measurement level: nominal, ordinal or scale


def analyte_label(analyte: str) -> str:
    a = ANALYTES.get(analyte)
    if a is None:
        return analyte
    return a.name if a.unit == "1" else f"{a.name} ({a.unit})"  # "1": a ratio without unit


def labelled(study: StudyData, plan: AnalysisPlan, shape: Shape) -> LabelledTable:
    """The wide or long table with its labels; sex and visit coded as labelled integers."""
    frame = wide_by_visit(study, plan) if shape == "wide" else long_by_visit(study, plan)
    frame = frame.with_columns(
        pl.col("sex").replace_strict(SEX_CODES, default=None, return_dtype=pl.Int64)
    )
    value_labels = {"sex": {1: "male", 2: "female"}}
    labels = {c: ATTRIBUTE_LABELS[c] for c in ATTRIBUTES}
    measures = {c: "nominal" if c in NOMINAL else "scale" for c in frame.columns}
    if shape == "long":
        codes = {v: i + 1 for i, v in enumerate(plan.visits)}
        frame = frame.with_columns(
            pl.col("visit_id")
            .replace_strict(codes, default=None, return_dtype=pl.Int64)
            .alias("visit")
        ).select(
            *ATTRIBUTES, "visit", "visit_id", "visit_day", *frame.columns[len(ATTRIBUTES) + 2 :]
        )
        value_labels["visit"] = {i: plan.visit_labels.get(v, v) for v, i in codes.items()}
        measures.update(visit="ordinal", visit_id="nominal")
        labels.update({c: ATTRIBUTE_LABELS[c] for c in ("visit", "visit_id", "visit_day")})
        labels.update({c: analyte_label(c) for c in frame.columns[len(ATTRIBUTES) + 3 :]})
    else:
        for column in frame.columns[len(ATTRIBUTES) :]:
            analyte, visit = _split_wide(column, plan)
            labels[column] = f"{analyte_label(analyte)}, visit {visit}"
    return LabelledTable(frame, labels, value_labels, measures)


def _split_wide(column: str, plan: AnalysisPlan) -> tuple[str, str]:
    # visit ids may hold underscores too, so match the plan's visits from the end
    for v in sorted(plan.visits, key=len, reverse=True):
        if column.endswith(f"_{v}"):
            return column[: -len(v) - 1], v
    return column, ""


def write_spss(table: LabelledTable, path: Path) -> Path:
    pyreadstat.write_sav(
        table.frame,
        str(path),
        column_labels=table.labels,
        variable_value_labels=table.value_labels,
        variable_measure=table.measures,
    )
    return path


class StataLimit(ValueError):
    """A name or label that Stata cannot hold."""


def write_stata(table: LabelledTable, path: Path) -> Path:
    bad = [c for c in table.frame.columns if not STATA_NAME.fullmatch(c)]
    if bad:
        raise StataLimit(f"not valid Stata variable names (32 characters at most): {bad}")
    long = {c: label for c, label in table.labels.items() if len(label) > STATA_LABEL_MAX}
    if long:
        raise StataLimit(f"variable labels longer than {STATA_LABEL_MAX} characters: {long}")
    pyreadstat.write_dta(
        table.frame,
        str(path),
        column_labels=table.labels,
        variable_value_labels=table.value_labels,
        version=15,
    )
    return path


def write_statistics_files(
    study: StudyData, plan: AnalysisPlan, fmt: Literal["spss", "stata"], folder: Path
) -> dict[str, LabelledTable]:
    """The study's wide and long files in `folder` (`celltrial export spss|stata` and the
    registry's download): file name -> the table written under it."""
    writer, suffix = (write_spss, "sav") if fmt == "spss" else (write_stata, "dta")
    written = {}
    for shape in ("wide", "long"):
        name = f"{study.meta.study_id}_{shape}.{suffix}"
        table = labelled(study, plan, shape)
        writer(table, folder / name)
        written[name] = table
    return written
