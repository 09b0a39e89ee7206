"""Findings: what reading and validating a study found wrong, one per problem.

Findings are kept as one Polars frame (a million findings must not cost a million Python
objects); `Findings` wraps the frame and behaves like a sequence of `Finding` values.

Row convention: `row` is the 1-based data row of the table file, header not counted, so
row 1 is the first record (in a spreadsheet showing the header on line 1 it is line 2).
Rows skipped on reading (every cell empty) keep the numbering: the rows after them keep
their own numbers (StudyData.file_rows). For tables built in memory it is the frame
position + 1. File-level findings have no row.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

ERROR = "error"
WARNING = "warning"
MISSING_COLUMN = "required column missing"
STUDY = "study"  # the table named by findings about the folder or study.yaml, not one table

FINDING_SCHEMA: dict[str, pl.DataType] = {
    "severity": pl.Utf8(),
    "table": pl.Utf8(),
    "row": pl.Int64(),
    "column": pl.Utf8(),
    "value": pl.Utf8(),
    "rule": pl.Utf8(),
    "file": pl.Utf8(),
}


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    table: str
    row: int | None  # 1-based data row (see module docstring); None for the whole file
    column: str | None
    value: str | None
    rule: str
    file: str | None = None

    def __str__(self) -> str:
        where = self.file or self.table
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        shown = "" if self.value is None else f" value {self.value!r}:"
        return f"{self.severity}: {where}:{shown} {self.rule}"


def empty_findings() -> pl.DataFrame:
    return _EMPTY.clear()  # ~50x cheaper than a frame built from the schema each time


_EMPTY = pl.DataFrame(schema=FINDING_SCHEMA)


def findings_frame(findings: list[Finding]) -> pl.DataFrame:
    """A frame from a few Finding values (file-level problems, not per-row ones)."""
    if not findings:
        return empty_findings()
    rows = [
        {k: getattr(f, k) for k in FINDING_SCHEMA}
        for f in findings  # a handful of file-level findings, not one per data row
    ]
    return pl.DataFrame(rows, schema=FINDING_SCHEMA)


def finding_rows(frame: pl.DataFrame, mask: pl.Expr, **fields: Any) -> pl.DataFrame:
    """One finding for every row of `frame` where `mask` holds (vectorized); `fields` as
    lazy_finding_rows() takes them."""
    return with_value_text(lazy_finding_rows(frame, mask, **fields)).collect()


def with_value_text(lazy: pl.LazyFrame) -> pl.LazyFrame:
    """Findings' values as text (_as_text), by the type the query gives them."""
    return lazy.with_columns(_as_text(pl.col("value"), lazy.collect_schema()["value"]))


def lazy_finding_rows(
    frame: pl.DataFrame,
    mask: pl.Expr,
    *,
    severity: str,
    table: str,
    column: str | pl.Expr | None,
    value: pl.Expr | None,
    rule: str | pl.Expr,
    file: str | None,
    row: pl.Expr | None = None,
) -> pl.LazyFrame:
    """finding_rows() not yet collected, its value as the frame holds it: many rules whose
    values are text are collected together, one query instead of one each."""
    lazy = frame.lazy()
    if row is None:
        lazy = lazy.with_row_index("_finding_row", offset=1)
        row = pl.col("_finding_row")
    rule_expr = rule if isinstance(rule, pl.Expr) else pl.lit(rule)
    value_expr = pl.lit(None, pl.Utf8) if value is None else value
    column_expr = column if isinstance(column, pl.Expr) else pl.lit(column, pl.Utf8)
    # filter first: the value and rule texts are built for the hits only, not every row
    return lazy.filter(mask.fill_null(False)).select(
        pl.lit(severity).alias("severity"),
        pl.lit(table).alias("table"),
        row.cast(pl.Int64).alias("row"),
        column_expr.alias("column"),
        value_expr.alias("value"),
        rule_expr.cast(pl.Utf8).alias("rule"),
        pl.lit(file, pl.Utf8).alias("file"),
    )


def _as_text(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Values as a person would type them: no microseconds on times, 6 significant digits."""
    if isinstance(dtype, pl.Datetime):
        return value.dt.to_string("%Y-%m-%d %H:%M:%S")
    if dtype == pl.Float64:
        return value.round_sig_figs(6).cast(pl.Utf8)
    return value.cast(pl.Utf8)


def at_file_rows(findings: pl.DataFrame, rows: pl.Series | None) -> pl.DataFrame:
    """Findings whose `row` is a frame position (1-based) moved to the file's own row
    numbers, `rows` holding the file row of each frame row (rows of a file were skipped)."""
    if rows is None or findings.height == 0:
        return findings
    return findings.with_columns(pl.lit(rows).gather(pl.col("row") - 1).alias("row"))


def named_as_in_files(findings: pl.DataFrame, names: dict[str, dict[str, str]]) -> pl.DataFrame:
    """Columns renamed, per table, to the names the files used (canonical.entry_names)."""
    for table, renamed in names.items():  # a table or two, not data rows
        if renamed:
            column = pl.col("column")
            here = pl.when(pl.col("table") == table).then(column.replace(renamed))
            findings = findings.with_columns(here.otherwise(column).alias("column"))
    return findings


def concat_findings(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_findings()
    return pl.concat([f.select(list(FINDING_SCHEMA)).cast(FINDING_SCHEMA) for f in frames])


@dataclass(frozen=True)
class Findings:
    """All findings of a validation; a sequence of Finding backed by one frame."""

    frame: pl.DataFrame

    @property
    def errors(self) -> int:
        return int((self.frame["severity"] == ERROR).sum())

    @property
    def warnings(self) -> int:
        return int((self.frame["severity"] == WARNING).sum())

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings alone do not fail a study)."""
        return self.errors == 0

    def __len__(self) -> int:
        return self.frame.height

    def __bool__(self) -> bool:
        return self.frame.height > 0

    def __getitem__(self, index: int) -> Finding:
        return Finding(**self.frame.row(index, named=True))

    def __iter__(self) -> Iterator[Finding]:
        for row in self.frame.iter_rows(named=True):
            yield Finding(**row)

    def head(self, n: int) -> list[Finding]:
        return list(Findings(self.frame.head(n)))


def errors_first(findings: Findings) -> Findings:
    """Errors before warnings; among each, findings about the folder (misnamed files) and
    missing columns first, as they cause others; then by file (or table) and row, file-level
    findings (no row) first in their file, so a capped listing shows causes before effects."""
    cause = (pl.col("table") == STUDY) | (pl.col("rule") == MISSING_COLUMN)
    order = findings.frame.with_columns(
        (pl.col("severity") != ERROR).alias("_warning"),
        (~cause).alias("_effect"),
        pl.coalesce("file", "table").alias("_where"),
    ).sort("_warning", "_effect", "_where", "row", nulls_last=False, maintain_order=True)
    return Findings(order.drop("_warning", "_effect", "_where"))


# How the Python API treats a study's findings: "raise" refuses a study with errors (as the
# CLI exits 1) and warns of warnings; "warn" warns of both and proceeds; "skip" checks
# nothing (the caller validates, as `celltrial validate` does).
Check = Literal["raise", "warn", "skip"]
CHECKS = ("raise", "warn", "skip")
LISTED = 10  # findings named in an exception or a warning; validate() returns them all


class InvalidStudyError(ValueError):
    """A study with validation errors, refused; `findings` holds every finding."""

    def __init__(self, message: str, findings: Findings) -> None:
        super().__init__(message)
        self.findings = findings


class StudyWarning(UserWarning):
    """A study was read or analysed despite validation findings (see validate())."""


def enforce(findings: Findings, check: Check, what: str) -> None:
    """Refuse or warn about `findings` of `what` (a folder or study id) as `check` says."""
    if check not in CHECKS:
        raise ValueError(f"check must be one of {', '.join(CHECKS)}, not {check!r}")
    if check == "skip" or not findings:
        return
    ordered = errors_first(findings)
    listed = "\n".join(f"  {f}" for f in ordered.head(LISTED))
    more = len(ordered) - min(len(ordered), LISTED)
    tail = f"\n  ... and {more} more (validate(study) returns them all)" if more else ""
    counts = f"{_count(findings.errors, 'error')}, {_count(findings.warnings, 'warning')}"
    if check == "raise" and not findings.ok:
        raise InvalidStudyError(
            f"{what}: {counts}; refused (check='warn' proceeds anyway):\n{listed}{tail}", findings
        )
    # stacklevel 3: the warning names the user's call of read_study or analyze_study
    warnings.warn(f"{what}: {counts}:\n{listed}{tail}", StudyWarning, stacklevel=3)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
