"""validate(study): every problem of a StudyData as a finding (severity, table, row, column,
value, rule, file). Each rule is one vectorized Polars pass over a table, never a row loop.

Errors: wrong types, missing required columns or values, duplicate keys, references that
point nowhere, unknown analytes or units, values outside the catalogue's possible range,
dates out of order, values outside a closed list. Warnings: values outside the catalogue's
plausible range, dose per kg that does not match dose / weight, unknown columns, a
medication ending on a visit date. A missing key column, or an empty table others refer to,
is one finding, not one per referring row. The protocol's rules are protocol.conformance's
(this layer does not import the protocol).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import polars as pl

from celltrial.clinical.analytes import ANALYTES, ANSWERS, QUESTIONS
from celltrial.data.canonical import analyte_ranges, lookup, unit_factors
from celltrial.data.cells import number_rule, type_columns
from celltrial.data.csv_table import FIELD_COUNT
from celltrial.data.findings import (
    ERROR,
    MISSING_COLUMN,
    WARNING,
    Finding,
    Findings,
    at_file_rows,
    concat_findings,
    findings_frame,
    lazy_finding_rows,
    named_as_in_files,
    with_value_text,
)
from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData

ROW = "_row"

SEXES = ["M", "F"]  # schema: participants.sex is "M or F"
RELEASE = ["released", "quarantine", "rejected"]  # schema: lots.release_status
PERCENT_COLUMNS = [
    "viability_pct",
    "cd73_pct",
    "cd90_pct",
    "cd105_pct",
    "cd45_pct",
    "cd34_pct",
    "cd14_cd11b_pct",
    "cd79a_cd19_pct",
    "hla_dr_pct",
]
CTCAE_GRADES = (1, 5)  # CTCAE v5.0: grades 1 (mild) to 5 (death)
AGE_YEARS = (0.0, 120.0)  # beyond any documented human age
DOSE_PER_KG_TOLERANCE = 0.01  # 1 %: rounding of dose and weight on the infusion record


class _Table:
    """One table, indexed by 1-based row, with the file it came from."""

    def __init__(
        self, name: str, frame: pl.DataFrame, file: str | None, rows: pl.Series | None
    ) -> None:
        self.name, self.file = name, file
        if rows is not None and rows.len() == frame.height:  # rows of the file were skipped
            self.frame = frame.with_columns(rows.cast(pl.Int64).alias(ROW))
        else:
            index = frame.with_row_index(ROW, offset=1)
            self.frame = index.with_columns(pl.col(ROW).cast(pl.Int64))

    def find(self, *args: Any, **kwargs: Any) -> pl.DataFrame:
        """find_lazy() collected."""
        return self.find_lazy(*args, **kwargs).collect()

    def find_lazy(
        self,
        mask: pl.Expr,
        column: str | pl.Expr | None,
        rule: str | pl.Expr,
        severity: str = ERROR,
        value: pl.Expr | None = None,
        frame: pl.DataFrame | None = None,
    ) -> pl.LazyFrame:
        """find() as a query, collected with the other rules' at once (_collected)."""
        if value is None and isinstance(column, str):
            value = pl.col(column)
        lazy = lazy_finding_rows(
            self.frame if frame is None else frame,
            mask,
            severity=severity,
            table=self.name,
            column=column,
            value=value,
            rule=rule,
            file=self.file,
            row=pl.col(ROW),
        )
        return with_value_text(lazy)


def validate(study: StudyData, tables: Collection[str] | None = None) -> Findings:
    """All findings of `study`: those kept from reading its files, then every rule below.
    With `tables`, only the findings of those tables: the rules that report on the other
    tables are not run (the registry checks a change of one table so on every write).

    Kept on the study once computed: read_study validates and analyze_study validates the
    same study again (seconds on a 100,000-participant registry). A StudyData is frozen and
    a changed one (with_table, dataclasses.replace) is a new object, validated afresh."""
    if tables is not None:
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise ValueError(f"no such table: {', '.join(sorted(unknown))}")
        return _validate(study, frozenset(tables))
    kept = study.__dict__.get(_KEPT)
    if kept is not None:
        return kept
    findings = _validate(study, None)
    object.__setattr__(study, _KEPT, findings)  # a memo, not a field: equality ignores it
    return findings


_KEPT = "_validated"
_ALL = frozenset(TABLES)


def _validate(study: StudyData, only: frozenset[str] | None) -> Findings:
    found = [study.load_findings]  # reading's findings also name files that are no table
    if only is not None:
        found = [study.load_findings.filter(pl.col("table").is_in(list(only)))]
    report = _ALL if only is None else only
    tables: dict[str, _Table] = {}
    for name, frame in study.tables().items():
        file = study.source_files.get(name)
        # one chunk per column: Polars 2.1's streaming string kernels panic on some
        # multi-chunk string columns built by concatenation (seen on simulated studies)
        rows = study.file_rows.get(name)
        conformed, conform_findings = _conform_memory(name, frame.rechunk(), file)
        if rows is not None and rows.len() == frame.height:
            conform_findings = at_file_rows(conform_findings, rows)
        if name in report:
            found.append(conform_findings)
        tables[name] = _Table(name, conformed, file, rows)
    so_far = concat_findings(found)
    missing = _missing_columns(so_far)
    found.append(_required_values(tables, missing, so_far, report))
    for table, check in _RULES:
        if table is None:  # rules of several tables, each told which to report on
            found += check(tables, missing, report)
        elif table in report:
            found += check(tables, missing)
    found = _without_knock_ons(concat_findings(_collected(found)))
    return Findings(named_as_in_files(found, study.file_columns))


def _collected(parts: list[pl.DataFrame | pl.LazyFrame]) -> list[pl.DataFrame]:
    """The rules' findings, their queries run together (pl.collect_all): validating a
    participant's few rows, as the registry does on every change, costs the fixed price of a
    query some 70 times instead of once per rule and column."""
    lazy = [i for i, p in enumerate(parts) if isinstance(p, pl.LazyFrame)]
    done = dict(zip(lazy, pl.collect_all([parts[i] for i in lazy]), strict=True))
    return [done.get(i, p) for i, p in enumerate(parts)]


def _without_knock_ons(findings: pl.DataFrame) -> pl.DataFrame:
    """A row with a wrong field count keeps only that finding: its cells are shifted, so
    what the other rules say of them would point at the wrong column."""
    counted = pl.col("rule").str.starts_with(FIELD_COUNT)
    ragged = findings.filter(counted).select("table", "row").unique()
    if ragged.height == 0:
        return findings
    marked = findings.join(
        ragged.with_columns(pl.lit(True).alias("_ragged")),
        on=["table", "row"],
        how="left",
        maintain_order="left",
    )
    return marked.filter(counted | pl.col("_ragged").is_null()).drop("_ragged")


def unknown_values(
    study: StudyData,
    table: str,
    column: str,
    known: Collection[str],
    rule: str,
    severity: str = ERROR,
) -> pl.DataFrame:
    """Findings for rows of `table` whose `column` is filled with a value outside `known`,
    a closed list the caller holds (such as the criterion ids of the study's protocol, which
    this layer cannot import); rows are named as in the file."""
    frame = getattr(study, table)
    if column not in frame.columns or frame.height == 0:
        return concat_findings([])
    t = _Table(table, frame, study.source_files.get(table), study.file_rows.get(table))
    text = pl.col(column).cast(pl.Utf8).str.strip_chars()
    return t.find(text.is_not_null() & ~text.is_in(list(known)), column, rule, severity)


def rows_of(study: StudyData, table: str) -> pl.DataFrame:
    """`table` of `study` with ROW, each row's 1-based row in its file (for row_findings)."""
    return _table(study, table).frame


def row_findings(
    study: StudyData,
    table: str,
    frame: pl.DataFrame,
    mask: pl.Expr,
    column: str | pl.Expr | None,
    rule: str | pl.Expr,
    severity: str = ERROR,
    value: pl.Expr | None = None,
) -> pl.DataFrame:
    """Findings for the rows of `frame` (rows_of(study, table), columns added, rows kept or
    dropped) where `mask` holds, named by the file and row they were read from."""
    return _table(study, table).find(mask, column, rule, severity, value, frame=frame)


def _table(study: StudyData, table: str) -> _Table:
    """The table with every schema column in its type (a frame built in memory may lack
    some or hold text); what does not fit is validate()'s to report."""
    file = study.source_files.get(table)
    frame, _ = _conform_memory(table, getattr(study, table).rechunk(), file)
    return _Table(table, frame, file, study.file_rows.get(table))


def _conform_memory(
    name: str, frame: pl.DataFrame, file: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A frame built in memory may lack columns or carry other dtypes: report and cast."""
    schema = TABLES[name]
    absent = [c for c in schema.columns if c.name not in frame.columns]
    findings = findings_frame(
        [
            Finding(ERROR, name, None, c.name, None, MISSING_COLUMN, file)
            for c in absent
            if c.required
        ]
    )
    frame = frame.with_columns(pl.lit(None, c.dtype).alias(c.name) for c in absent)
    typed, cast_findings = type_columns(frame, schema, file)
    return typed, concat_findings([findings, cast_findings])


def _missing_columns(found: pl.DataFrame) -> set[tuple[str, str]]:
    hits = found.filter(pl.col("rule") == MISSING_COLUMN).select("table", "column")
    return set(hits.iter_rows())  # a few file-level findings


def _required_values(
    tables: dict[str, _Table], missing: set, so_far: pl.DataFrame, report: frozenset[str]
) -> pl.DataFrame | pl.LazyFrame:
    """Empty required cells; a cell already reported (it did not fit its type, or its whole
    row was malformed) is skipped."""
    out = []
    reported = so_far.filter(pl.col("row").is_not_null())
    for name, t in tables.items():
        if name not in report:
            continue
        here = reported.filter(pl.col("table") == name)
        for col in TABLES[name].required:
            if (name, col) in missing:
                continue  # the missing column is reported once, not once per row
            mask = pl.col(col).is_null()
            if here.height:
                # a row reported whole (malformed in its file) is not reported again cell
                # by cell
                same = pl.col("column").is_null() | (pl.col("column") == col)
                mask = mask & ~pl.col(ROW).is_in(here.filter(same)["row"].implode())
            if name == "measurements" and col in ("value", "unit"):
                # an entry that did not convert is reported by the unit and number rules
                mask = mask & pl.col("value_as_entered").is_null()
            out.append(t.find_lazy(mask, col, "required value missing"))
    return pl.concat(out) if out else concat_findings([])


def _duplicate_keys(
    tables: dict[str, _Table], missing: set, report: frozenset[str]
) -> list[pl.DataFrame]:
    out = []
    for name, t in tables.items():
        key = list(TABLES[name].key)
        if name not in report or t.frame.height == 0 or any((name, k) in missing for k in key):
            continue
        candidates = _repeat_candidates(t.frame, key)
        if candidates is None:
            continue
        complete = pl.all_horizontal(pl.col(k).is_not_null() for k in key)
        repeat = complete & ~pl.struct(key).is_first_distinct()
        shown = pl.concat_str([_text(pl.col(k), t.frame.schema[k]) for k in key], separator=" / ")
        # the first row of each key, taken before find() filters to the repeats; file rows
        # only grow down the file, so the smallest is the earliest
        candidates = candidates.with_columns(pl.col(ROW).min().over(key).alias("_first"))
        same = f"duplicate key: row {{}} has the same {', '.join(key)} ({{}})"
        rule = pl.format(same, "_first", shown)
        column = key[0] if len(key) == 1 else None
        out.append(t.find_lazy(repeat, column, rule, value=shown, frame=candidates))
    return out


def _repeat_candidates(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame | None:
    """Rows whose key hash occurs twice or more (None when all hashes differ, which proves
    all keys differ). Hashing, then an exact check on the few candidates, is ~10x faster
    than an exact distinct over millions of string keys."""
    hashed = frame.select(ROW, *key).with_columns(pl.struct(key).hash().alias("_h"))
    if hashed["_h"].n_unique() == hashed.height:
        return None
    ordered = hashed["_h"].sort()
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    return hashed.filter(pl.col("_h").is_in(repeated.implode())).drop("_h")


_REFERENCES = [
    # (table, column, target table, target column, what the target is called)
    ("screening", "participant_id", "participants", "participant_id", "participant"),
    ("infusions", "participant_id", "participants", "participant_id", "participant"),
    ("infusions", "lot_id", "lots", "lot_id", "lot"),
    ("visits", "participant_id", "participants", "participant_id", "participant"),
    ("measurements", "participant_id", "participants", "participant_id", "participant"),
    ("medications", "participant_id", "participants", "participant_id", "participant"),
    ("adverse_events", "participant_id", "participants", "participant_id", "participant"),
    ("adverse_events", "infusion_id", "infusions", "infusion_id", "infusion"),
]


def _text(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        return col.dt.to_string("%Y-%m-%d %H:%M:%S")
    return col.cast(pl.Utf8)


def _references(
    tables: dict[str, _Table], missing: set, report: frozenset[str]
) -> list[pl.DataFrame]:
    """References that point nowhere. When the target's key column is missing its finding
    says it all; when the target table has no rows (no file, or a misnamed one) one finding
    per referring table replaces a finding per row."""
    out = []
    for table, col, target, target_col, what in _REFERENCES:
        if table not in report or (target, target_col) in missing or (table, col) in missing:
            continue
        if tables[target].frame.height == 0:
            out.append(_no_target(tables[table], col, target, what))
            continue
        known = tables[target].frame[target_col].drop_nulls().unique()
        mask = pl.col(col).is_not_null() & ~pl.col(col).is_in(known.implode())
        out.append(
            tables[table].find_lazy(mask, col, f"unknown {what}: no such {target_col} in {target}")
        )
    keys = {("visits", "participant_id"), ("visits", "visit_id")}
    if "measurements" in report and not keys & missing:
        out.append(_visit_references(tables))
    return out


def _no_target(t: _Table, col: str, target: str, what: str) -> pl.DataFrame:
    """One file-level error for every row of `t` naming a `what` when `target` is empty."""
    named = t.frame[col].drop_nulls()
    if named.len() == 0:
        return concat_findings([])
    rows = "1 row names" if named.len() == 1 else f"{named.len()} rows name"
    rule = f"{rows} a {what}, but the study has no {target} rows ({target} file missing or empty)"
    return findings_frame([Finding(ERROR, t.name, None, col, str(named[0]), rule, t.file)])


def _visit_references(tables: dict[str, _Table]) -> pl.DataFrame:
    """A measurement's (participant_id, visit_id) must name a visit in visits."""
    keys = ["participant_id", "visit_id"]
    if tables["visits"].frame.height == 0:
        return _no_target(tables["measurements"], "visit_id", "visits", "visit")
    visits = tables["visits"].frame.select(keys).drop_nulls().unique()
    m = tables["measurements"]
    joined = (
        m.frame.lazy()
        .select(ROW, *keys)
        .filter(pl.col("visit_id").is_not_null())
        .join(visits.lazy().with_columns(pl.lit(True).alias("_known")), on=keys, how="left")
        .collect()
    )
    return m.find_lazy(
        pl.col("_known").is_null() & pl.col("participant_id").is_not_null(),
        "visit_id",
        "unknown visit: no such (participant_id, visit_id) in visits",
        frame=joined,
    )


def _accepted_units() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "analyte": list(ANALYTES),
            "_accepted": [", ".join(a.accepted_units()) for a in ANALYTES.values()],
        }
    )


def _unit_facts(pairs: pl.DataFrame) -> pl.DataFrame:
    """For each distinct (analyte, unit, unit_as_entered): is the entry unit accepted, what
    is accepted, the canonical unit and the catalogue ranges."""
    factors = unit_factors().select("analyte", "unit_key").with_columns(pl.lit(True).alias("_ok"))
    return (
        pairs.with_columns(
            pl.coalesce("unit_as_entered", "unit").alias("_entry_unit"),
            pl.when(pl.col("unit_as_entered").is_not_null())
            .then(pl.lit("unit_as_entered"))
            .otherwise(pl.lit("unit"))
            .alias("_unit_col"),
        )
        .with_columns(pl.col("_entry_unit").str.strip_chars().str.to_lowercase().alias("unit_key"))
        .join(factors, on=["analyte", "unit_key"], how="left")
        .join(_accepted_units(), on="analyte", how="left")
        .join(analyte_ranges(), on="analyte", how="left")
        .drop("unit_key")
    )


def _measurement_values(tables: dict[str, _Table], missing: set) -> list[pl.DataFrame]:
    """Known analyte, a unit it accepts, a numeric entry, the value stored in the canonical
    unit and within the catalogue's possible (error) and plausible (warning) ranges."""
    m = tables["measurements"]
    keys = ["analyte", "unit", "unit_as_entered"]
    facts = lookup(m.frame.select(keys), _unit_facts)
    frame = pl.concat(
        [m.frame.select(ROW, *keys, "value", "value_as_entered"), facts], how="horizontal"
    )
    known = pl.col("canonical_unit").is_not_null()
    entry = pl.col("value_as_entered").str.strip_chars()
    bad_unit = known & pl.col("_entry_unit").is_not_null() & pl.col("_ok").is_null()
    unit_rule = pl.format(
        "unit as entered is not accepted for {}; accepted: {}", "analyte", "_accepted"
    )
    v = pl.col("value")
    impossible = (v < pl.col("possible_lo")) | (v > pl.col("possible_hi"))
    # a yes/no question (catalogue kind "question") takes 1 or 0 only
    not_an_answer = ~impossible & pl.col("analyte").is_in(sorted(QUESTIONS)) & ~v.is_in(ANSWERS)
    implausible = (
        ~impossible & ~not_an_answer & ((v < pl.col("plausible_lo")) | (v > pl.col("plausible_hi")))
    )
    shown = [pl.col("value_as_entered"), pl.col("unit_as_entered")]
    stored = [pl.col("value").round_sig_figs(6).cast(pl.Utf8), pl.col("unit")]
    # a frame built in memory has no entry: its stored value is shown (never '')
    entered = pl.coalesce(
        pl.concat_str(shown, separator=" ", ignore_nulls=True).replace("", None),
        pl.concat_str(stored, separator=" ", ignore_nulls=True),
    )

    def range_rule(kind: str) -> pl.Expr:
        return pl.format(
            "{} = {} {} is outside the {} range {}-{} {}",
            "analyte",
            pl.col("value").round_sig_figs(4),
            "canonical_unit",
            pl.lit(kind),
            f"{kind}_lo",
            f"{kind}_hi",
            "canonical_unit",
        )

    return [
        m.find_lazy(
            pl.col("analyte").is_not_null() & ~known,
            "analyte",
            f"unknown analyte; known: {', '.join(sorted(ANALYTES))}",
            frame=frame,
        ),
        m.find_lazy(
            bad_unit, pl.col("_unit_col"), unit_rule, value=pl.col("_entry_unit"), frame=frame
        ),
        m.find_lazy(
            entry.is_not_null()
            & ~entry.cast(pl.Float64, strict=False).is_finite().fill_null(False),
            "value_as_entered",
            number_rule(entry, "value as entered is not a number"),
            frame=frame,
        ),
        m.find_lazy(
            known & pl.col("unit").is_not_null() & (pl.col("unit") != pl.col("canonical_unit")),
            "unit",
            pl.format("value is not in the canonical unit {}", "canonical_unit"),
            frame=frame,
        ),
        m.find_lazy(impossible, "value", range_rule("possible"), value=entered, frame=frame),
        m.find_lazy(
            not_an_answer,
            "value",
            pl.format("{} is a yes/no answer: 1 (yes) or 0 (no)", "analyte"),
            value=entered,
            frame=frame,
        ),
        m.find_lazy(
            implausible, "value", range_rule("plausible"), WARNING, value=entered, frame=frame
        ),
    ]


def _range(col: str, lo: float, hi: float) -> pl.Expr:
    return pl.col(col).is_not_null() & ((pl.col(col) < lo) | (pl.col(col) > hi))


def _participant_rules(tables: dict[str, _Table], missing: set) -> list[pl.DataFrame]:
    p = tables["participants"]
    height = ANALYTES["height"]
    return [
        p.find_lazy(
            pl.col("sex").is_not_null() & ~pl.col("sex").is_in(SEXES), "sex", "sex must be M or F"
        ),
        p.find_lazy(
            _range("age", *AGE_YEARS), "age", f"age outside {AGE_YEARS[0]}-{AGE_YEARS[1]} years"
        ),
        p.find_lazy(
            _range("height_cm", *height.possible),
            "height_cm",
            f"height outside the possible range {height.possible[0]}-{height.possible[1]} cm",
        ),
        p.find_lazy(
            ~_range("height_cm", *height.possible) & _range("height_cm", *height.plausible),
            "height_cm",
            f"height outside the plausible range {height.plausible[0]}-{height.plausible[1]} cm",
            WARNING,
        ),
        p.find_lazy(
            pl.col("birth_date") >= pl.col("enrollment_date"),
            "birth_date",
            "birth date is not before the enrolment date",
        ),
        p.find_lazy(
            pl.col("withdrawal_date") < pl.col("enrollment_date"),
            "withdrawal_date",
            "withdrawal date is before the enrolment date",
        ),
    ]


def _with_enrolment(t: _Table, tables: dict[str, _Table]) -> pl.DataFrame:
    enrol = (
        tables["participants"]
        .frame.select("participant_id", "enrollment_date")
        .unique("participant_id", keep="first")
    )
    return t.frame.join(enrol, on="participant_id", how="left", maintain_order="left")


def _date_order(
    tables: dict[str, _Table], missing: set, report: frozenset[str]
) -> list[pl.DataFrame]:
    enrol_time = pl.col("enrollment_date").cast(pl.Datetime("us"))
    rules = [
        # (table, column, broken when, rule, compared with the participant's enrolment)
        (
            "visits",
            "actual_date",
            (pl.col("actual_date") < pl.col("enrollment_date"))
            & (pl.col("target_day").is_null() | (pl.col("target_day") >= 0)),
            "visit date is before the participant's enrolment date",
            True,
        ),
        (
            "infusions",
            "start_time",
            pl.col("start_time") < enrol_time,
            "infusion is before the participant's enrolment date",
            True,
        ),
        (
            "medications",
            "end_date",
            pl.col("end_date") < pl.col("start_date"),
            "medication end date is before its start date",
            False,
        ),
        (
            "adverse_events",
            "end_time",
            pl.col("end_time") < pl.col("onset_time"),
            "adverse event ends before its onset",
            False,
        ),
    ]
    out = []
    for table, column, broken, rule, enrolled in rules:
        if table in report:
            t = tables[table]
            frame = _with_enrolment(t, tables) if enrolled else None
            out.append(t.find_lazy(broken, column, rule, frame=frame))
    return out


def _lot_rules(tables: dict[str, _Table], missing: set) -> list[pl.DataFrame]:
    lots = tables["lots"]
    out = [
        lots.find_lazy(_range(c, 0.0, 100.0), c, "a percentage must be between 0 and 100")
        for c in PERCENT_COLUMNS
    ]
    out.append(
        lots.find_lazy(
            pl.col("release_status").is_not_null() & ~pl.col("release_status").is_in(RELEASE),
            "release_status",
            f"release status must be one of {', '.join(RELEASE)}",
        )
    )
    out.append(
        lots.find_lazy(
            pl.col("expiry_date") < pl.col("manufacture_date"),
            "expiry_date",
            "expiry date is before the manufacture date",
        )
    )
    return out


def _infusion_rules(tables: dict[str, _Table], missing: set) -> list[pl.DataFrame]:
    inf = tables["infusions"]
    lots = (
        tables["lots"]
        .frame.select("lot_id", "release_status", "expiry_date")
        .unique("lot_id", keep="first")
    )
    with_lot = inf.frame.join(lots, on="lot_id", how="left", maintain_order="left")
    weight = ANALYTES["weight"]
    per_kg = pl.col("dose_cells") / pl.col("weight_kg")
    return [
        inf.find_lazy(
            pl.col("release_status").is_not_null() & (pl.col("release_status") != "released"),
            "lot_id",
            pl.format("lot is not released (release_status {})", "release_status"),
            frame=with_lot,
        ),
        inf.find_lazy(
            pl.col("start_time").dt.date() > pl.col("expiry_date"),
            "start_time",
            "infusion is after the lot's expiry date",
            frame=with_lot,
        ),
        inf.find_lazy(pl.col("dose_cells") <= 0, "dose_cells", "dose must be positive"),
        inf.find_lazy(
            _range("weight_kg", *weight.possible),
            "weight_kg",
            f"weight outside the possible range {weight.possible[0]}-{weight.possible[1]} kg",
        ),
        inf.find_lazy(
            ((pl.col("dose_cells_per_kg") - per_kg).abs() > DOSE_PER_KG_TOLERANCE * per_kg.abs()),
            "dose_cells_per_kg",
            "dose per kg differs from dose_cells / weight_kg by more than 1 %",
            WARNING,
        ),
    ]


def _adverse_event_rules(tables: dict[str, _Table], missing: set) -> list[pl.DataFrame]:
    return [
        tables["adverse_events"].find_lazy(
            _range("grade", *CTCAE_GRADES), "grade", "grade must be 1 to 5 (CTCAE v5.0)"
        )
    ]


# The team's convention (issue 10): end_date is the last day the drug was taken, inclusive.
END_ON_VISIT = (
    "medication ends on the date of visit {}: end_date is the last day taken (inclusive), so "
    "the drug counts as taken at that visit; if it was stopped before the visit, enter the "
    "day before"
)


def _medication_end_on_visit(tables: dict[str, _Table], missing: set) -> list[pl.DataFrame]:
    """A warning for each prescription that ends on a date the participant had a visit:
    whether the drug was taken at that visit is ambiguous to whoever entered it."""
    keys = ["participant_id", "visit_id", "actual_date"]
    if any(("visits", k) in missing for k in keys):
        return []
    visits = (
        tables["visits"]
        .frame.select(keys)
        .drop_nulls()
        .unique(["participant_id", "actual_date"], keep="first", maintain_order=True)
    )
    meds = tables["medications"]
    ending = meds.frame.join(
        visits,
        left_on=["participant_id", "end_date"],
        right_on=["participant_id", "actual_date"],
        how="inner",
        maintain_order="left",
    )
    rule = pl.format(END_ON_VISIT, "visit_id")
    return [meds.find_lazy(pl.lit(True), "end_date", rule, WARNING, frame=ending)]


# validate()'s rules in the order their findings are listed, each with the one table its
# findings name (None: several, and the rule is told which to report on)
_RULES = (
    (None, _duplicate_keys),
    (None, _references),
    ("measurements", _measurement_values),
    ("participants", _participant_rules),
    (None, _date_order),
    ("lots", _lot_rules),
    ("infusions", _infusion_rules),
    ("adverse_events", _adverse_event_rules),
    ("medications", _medication_end_on_visit),
)
