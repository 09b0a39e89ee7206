"""An SDTM package of a study: every dataset as CSV and SAS transport v5 (.xpt), a
variable-level specification (spec.csv), and the checks that can be made without external
validators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyreadstat

from celltrial.data.study import StudyData
from celltrial.exchange.output_folder import complete_folder
from celltrial.exchange.sdtm import design_domains, subject_domains
from celltrial.exchange.sdtm.metadata import terminology, variables
from celltrial.protocol.model import Protocol

# SAS transport v5: character values of 200 bytes at most (SAS TS-140, "the record layout of
# a SAS transport file").
XPT_CHAR_MAX = 200
# ISO 8601 date or date-time, complete to the day and at most to the second (SDTMIG 3.4 4.4.2)
ISO_DTC = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")
ISO_DURATION = re.compile(r"P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?")


@dataclass(frozen=True)
class Problem:
    dataset: str
    variable: str
    rule: str
    value: str

    def __str__(self) -> str:
        return f"{self.dataset}.{self.variable}: {self.rule} ({self.value})"


def datasets(
    study: StudyData, protocol: Protocol, country: str | None = None
) -> dict[str, pl.DataFrame]:
    """Every SDTM dataset of the study, by name."""
    refs = subject_domains.references(study, protocol)
    return {
        "DM": subject_domains.dm(study, refs, country),
        "EX": subject_domains.ex(study, refs, protocol),
        "LB": subject_domains.lb(study, refs, protocol),
        "VS": subject_domains.vs(study, refs, protocol),
        "AE": subject_domains.ae(study, refs),
        "CM": subject_domains.cm(study, refs),
        "SV": subject_domains.sv(study, refs, protocol),
        "TA": design_domains.ta(study, protocol),
        "TV": design_domains.tv(study, protocol),
        "TS": design_domains.ts(study, protocol),
    }


def specification(sets: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per dataset variable: label, type, length (longest value in bytes; 8 for
    numbers), controlled terms and origin, as a define.xml variable-level table holds them."""
    rows = []
    for name, frame in sets.items():
        for v in variables()[name]:
            length = 8 if v.type == "Num" else max(_longest(frame[v.name]), 1)
            rows.append(
                {
                    "dataset": name,
                    "variable": v.name,
                    "label": v.label,
                    "type": v.type,
                    "length": length,
                    "core": v.core,
                    "controlled_terms": v.codelist or "",
                    "origin": v.origin,
                }
            )
    return pl.DataFrame(rows)


def _longest(column: pl.Series) -> int:
    return int(column.str.len_bytes().max() or 0)


def check(sets: dict[str, pl.DataFrame]) -> list[Problem]:
    """What can be checked without an external validator: required values present, ISO 8601
    dates and durations, --SEQ unique within USUBJID, every USUBJID in DM, controlled terms,
    names, labels and lengths within the SAS transport v5 limits."""
    ct = terminology()
    subjects = set(sets["DM"]["USUBJID"].to_list())
    problems: list[Problem] = []
    for name, frame in sets.items():
        for v in variables()[name]:
            column = frame[v.name]
            if v.core == "Req" and column.null_count():
                problems.append(
                    Problem(name, v.name, "required value missing", f"{column.null_count()} rows")
                )
            values = column.drop_nulls()
            if v.name.endswith("DTC") and not values.str.contains(f"^{ISO_DTC.pattern}$").all():
                problems.append(Problem(name, v.name, "not ISO 8601", _first_bad(values, ISO_DTC)))
            if v.codelist:
                allowed = ct.allowed(v.codelist)
                bad = sorted(set(values.to_list()) - allowed)
                if bad:
                    problems.append(
                        Problem(
                            name, v.name, f"not in codelist {v.codelist}", ", ".join(map(str, bad))
                        )
                    )
            if v.type == "Char" and _longest(values) > XPT_CHAR_MAX:
                problems.append(Problem(name, v.name, f"longer than {XPT_CHAR_MAX} bytes", ""))
        problems += _keys(name, frame, subjects)
    problems += _ts_values(sets["TS"])
    return problems


def _first_bad(values: pl.Series, pattern: re.Pattern[str]) -> str:
    return next((x for x in values.to_list() if not pattern.fullmatch(x)), "")


def _keys(name: str, frame: pl.DataFrame, subjects: set[str]) -> list[Problem]:
    out = []
    if "USUBJID" in frame.columns and name != "DM":
        unknown = set(frame["USUBJID"].drop_nulls().to_list()) - subjects
        if unknown:
            out.append(Problem(name, "USUBJID", "not in DM", ", ".join(sorted(unknown)[:5])))
    seq = f"{name}SEQ"
    if (
        seq in frame.columns
        and "USUBJID" in frame.columns
        and frame.select("USUBJID", seq).is_duplicated().any()
    ):
        out.append(Problem(name, seq, "not unique within USUBJID", ""))
    return out


def _ts_values(ts: pl.DataFrame) -> list[Problem]:
    ct = terminology()
    out = []
    for code, value in ts.select("TSPARMCD", "TSVAL").drop_nulls().iter_rows():
        codelist = design_domains.TS_CODELISTS.get(code)
        if codelist and value not in ct.allowed(codelist):
            out.append(Problem("TS", "TSVAL", f"{code} not in codelist {codelist}", value))
        if code in ("AGEMIN", "AGEMAX", "LENGTH") and not ISO_DURATION.fullmatch(value):
            out.append(Problem("TS", "TSVAL", f"{code} not an ISO 8601 duration", value))
    return out


def write_xpt(name: str, frame: pl.DataFrame, path: Path) -> None:
    """SAS transport v5; an empty text is SAS's missing character value."""
    chars = [v.name for v in variables()[name] if v.type == "Char"]
    labels = {v.name: v.label for v in variables()[name]}
    filled = frame.with_columns(pl.col(chars).fill_null(""))
    pyreadstat.write_xport(
        filled.to_pandas(),
        str(path),
        file_label=name,
        column_labels=labels,
        table_name=name,
        file_format_version=5,
    )


def write_package(sets: dict[str, pl.DataFrame], out: Path, *, force: bool = False) -> Path:
    """Every dataset as <name>.csv and <name>.xpt (lower-case file names, as FDA's study data
    technical conformance guide asks) and spec.csv, written completely or not at all."""
    with complete_folder(out, force=force) as tmp:
        for name, frame in sets.items():
            frame.write_csv(tmp / f"{name.lower()}.csv")
            write_xpt(name, frame, tmp / f"{name.lower()}.xpt")
        specification(sets).write_csv(tmp / "spec.csv")
    return out
