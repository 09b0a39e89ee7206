"""One table file in CSV as people save it: separated by commas, or by semicolons with
decimal commas (European Excel); UTF-8 with stray Latin-1 bytes; rows whose cells are all
empty (Excel keeps them below the data); rows with too many or too few fields; unclosed
quotes. Every cell is read as text (typing is cells.py's job); what does not fit becomes a
finding naming the file's own 1-based data row, and every other row is read.

The usual file (commas, UTF-8, no empty or short rows) takes one Polars read plus a few
column statistics; the byte scans of csv_rows.py run only when those say they must.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from celltrial.data.cells import DECIMAL_COMMA
from celltrial.data.csv_rows import (
    BadRows,
    blank_line,
    header_fields,
    line_fields,
    line_of,
    pick_records,
    ragged_rows,
    record_fields,
    unterminated_quote,
    unusable_for_lines,
)
from celltrial.data.findings import (
    ERROR,
    WARNING,
    Finding,
    at_file_rows,
    concat_findings,
    empty_findings,
    finding_rows,
    findings_frame,
)
from celltrial.data.read_error import StudyReadError
from celltrial.data.text import decode_mixed

MAX_BAD_QUOTES = 1000  # beyond this the file is not CSV text worth reading row by row
_BOM = b"\xef\xbb\xbf"  # UTF-8 byte order mark, written by Excel's "CSV UTF-8"
_NO_ROWS = np.zeros(0, dtype=np.int64)
FIELD_COUNT = "row has "  # how every wrong-field-count finding begins (validation keys on it)


@dataclass(frozen=True)
class CsvTable:
    frame: pl.DataFrame  # text columns as named in the file; rows of empty cells removed
    findings: pl.DataFrame  # their `row` is the file's 1-based data row
    rows: pl.Series | None = None  # file data row of each frame row; None: row i is i + 1


@dataclass(frozen=True)
class _Text:
    """A file parsed into text columns, before empty and short rows are looked at."""

    frame: pl.DataFrame
    findings: pl.DataFrame
    data: bytes | None = None  # the bytes parsed, when they were read into memory
    counts: np.ndarray | None = None  # fields per record, when the byte scan already ran
    quote_rows: np.ndarray = field(default_factory=lambda: _NO_ROWS)  # blanked: bad quotes


def read_csv_table(
    file: Path, table: str, columns: Collection[str], numeric: Collection[str]
) -> CsvTable:
    """Read `file` as text columns. `columns` are the table's column names (to recognise a
    semicolon header), `numeric` those holding numbers (where a decimal comma is read)."""
    with file.open("rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head:
        raise StudyReadError(f"{file}: binary content (NUL bytes), not a CSV text file")
    if not head.strip():
        warn = Finding(
            WARNING, table, None, None, None, "file is empty; read as no rows", str(file)
        )
        return CsvTable(pl.DataFrame(), findings_frame([warn]))
    sep = detect_separator(head, columns)
    text = _read_text(file, table, sep)
    empty = _empty_rows(text.frame, text.quote_rows)
    bad = _bad_field_rows(text, file, sep, empty)
    hints = _decimal_comma_hints(bad, text, sep, numeric)
    frame, rows = _drop_rows(text.frame, empty)
    found = [text.findings, _field_findings(bad, table, str(file), hints)]
    found.append(_empty_rows_warning(empty, table, str(file)))
    if sep == ";":
        frame, decimals = _decimal_commas(frame, numeric, table, str(file), rows)
        found = [_semicolon_warning(table, str(file)), decimals, *found]
    ordered = concat_findings(found).sort("row", nulls_last=False, maintain_order=True)
    return CsvTable(frame, ordered, rows)


def detect_separator(head: bytes, columns: Collection[str]) -> str:
    """ ";" when the header has no comma, has semicolons and splits on them into at least two
    of the table's column names (one could be a coincidence); "," otherwise."""
    first = head.split(b"\n", 1)[0].removeprefix(_BOM).rstrip(b"\r")
    if b";" not in first or b"," in first:
        return ","
    names = {n.strip().strip('"').strip() for n in first.decode("utf-8", "replace").split(";")}
    return ";" if len(names & set(columns)) >= 2 else ","


def _parse(source: Path | bytes, sep: str, truncate_ragged: bool = False) -> pl.DataFrame:
    return pl.read_csv(
        source,
        separator=sep,
        infer_schema=False,
        raise_if_empty=False,
        truncate_ragged_lines=truncate_ragged,
    )


def _read_text(file: Path, table: str, sep: str) -> _Text:
    try:
        return _Text(_parse(file, sep), empty_findings())
    except pl.exceptions.PolarsError as exc:
        if "utf-8" not in str(exc).lower():
            return _read_malformed(file.read_bytes(), file, table, sep)
    text, bad_row = decode_mixed(file.read_bytes())
    rule = "bytes that are not UTF-8 (first at this row); read as Latin-1, check accents"
    warn = findings_frame([Finding(WARNING, table, bad_row, None, None, rule, str(file))])
    data = text.encode("utf-8")
    try:
        return _Text(_parse(data, sep), warn, data)
    except pl.exceptions.PolarsError:
        got = _read_malformed(data, file, table, sep)
        return replace(got, findings=concat_findings([warn, got.findings]))


def _read_malformed(data: bytes, file: Path, table: str, sep: str) -> _Text:
    """The fast read failed: find the rows that broke it (unclosed quotes, too many fields)
    and read every other row. Unclosed-quote rows are reported here and read as empty (their
    text cannot be split); rows with a wrong field count are reported by the caller."""
    buf = np.frombuffer(data, dtype=np.uint8)
    code = ord(sep)
    fields = header_fields(buf, code)
    found: list[Finding] = []
    for _ in range(MAX_BAD_QUOTES):  # one pass per unclosed quote, each pass vectorized
        start = unterminated_quote(buf, code)
        if start is None:
            break
        row = line_of(buf, start)
        if row == 0:
            raise StudyReadError(f"{file}: unterminated quote in the header row")
        rule = f"unterminated quote starting at row {row}; the row was read as empty"
        found.append(Finding(ERROR, table, row, None, None, rule, str(file)))
        buf = blank_line(buf, start, fields, code)
    else:
        raise StudyReadError(f"{file}: more than {MAX_BAD_QUOTES} unterminated quotes")
    parsed = buf.tobytes()
    try:
        frame = _parse(parsed, sep, truncate_ragged=True)
    except pl.exceptions.PolarsError as exc:
        raise StudyReadError(f"{file}: not a readable CSV file ({_first(exc)})") from None
    quote_rows = np.array([f.row for f in found], dtype=np.int64)  # at most MAX_BAD_QUOTES
    return _Text(frame, findings_frame(found), parsed, record_fields(buf, code), quote_rows)


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _may_be_blank(col: pl.Series) -> bool:
    """False when no cell of the column can be empty or whitespace only: no nulls, and every
    cell starts with a printable ASCII character (it lies between the min and max strings,
    whose first characters bound all others). Two scans, no string copies."""
    if col.null_count():
        return True
    lo, hi = col.min(), col.max()
    return not (lo and hi and lo[0] >= "!" and hi[0] <= "~")


def _empty_rows(frame: pl.DataFrame, exempt: np.ndarray) -> np.ndarray:
    """1-based rows whose every cell is empty or whitespace; rows blanked because their
    quote never closed are reported as such, not skipped. An empty row is empty in its
    first column, so a first column that cannot be blank ends the search."""
    if frame.height == 0 or frame.width == 0 or not _may_be_blank(frame[:, 0]):
        return _NO_ROWS
    blank = pl.all_horizontal(
        (pl.col(c).str.strip_chars().str.len_bytes() == 0).fill_null(True) for c in frame.columns
    )
    rows = np.flatnonzero(frame.select(blank).to_series().to_numpy()) + 1
    return rows[~np.isin(rows, exempt)]


def _bad_field_rows(text: _Text, file: Path, sep: str, empty: np.ndarray) -> BadRows | None:
    """Rows with more or fewer fields than the header, empty rows left out. On the fast path
    only rows whose last cell is null can be short (Polars fills missing fields with null),
    so the bytes are looked at only when there are such rows."""
    if text.counts is not None:  # the malformed path scanned every record already
        return ragged_rows(text.counts, np.concatenate([empty, text.quote_rows]))
    frame = text.frame
    if frame.height == 0 or frame.width < 2 or frame[:, -1].null_count() == 0:
        return None
    candidates = np.flatnonzero(frame[:, -1].is_null().to_numpy()) + 1
    candidates = candidates[~np.isin(candidates, empty)]
    if candidates.size == 0:
        return None
    data = text.data if text.data is not None else file.read_bytes()
    if unusable_for_lines(data):
        counts = record_fields(np.frombuffer(data, dtype=np.uint8), ord(sep))
        return ragged_rows(counts, empty)
    fields = line_fields(data, sep, candidates)
    short = fields < frame.width
    return BadRows(candidates[short], fields[short], frame.width)


# a number split by an unquoted decimal comma: digits, comma, digits (cells.DECIMAL_COMMA
# without its empty integer part; "1,540" matches too, as it does there)
_SPLIT_NUMBER = r"^\s*[+-]?\d+,\d+\s*$"
_HINTS = {"row": pl.Int64, "column": pl.Utf8, "value": pl.Utf8}


def _decimal_comma_hints(
    bad: BadRows | None, text: _Text, sep: str, numeric: Collection[str]
) -> pl.DataFrame | None:
    """For rows with one field too many in a comma file: the first numeric column whose
    field joined with the next by a comma makes a number (1 and 54 -> 1,54), as (row,
    column, value). Only the malformed path sees long rows, and it keeps the bytes it read."""
    if bad is None or sep != "," or text.data is None:
        return None
    rows = bad.rows[bad.fields == bad.header + 1]
    names = [c.strip() for c in text.frame.columns]
    places = [j for j, name in enumerate(names[: bad.header]) if name in numeric]
    if rows.size == 0 or not places:
        return None
    cells = [f"f{j}" for j in range(bad.header + 1)]
    try:  # the picked rows all have header + 1 fields: one rectangular read
        split = pl.read_csv(
            pick_records(np.frombuffer(text.data, dtype=np.uint8), rows),
            has_header=False,
            new_columns=cells,
            infer_schema=False,
        )
    except pl.exceptions.PolarsError:
        return None  # no hint rather than no finding
    if split.height != rows.size or split.width != len(cells):
        return None
    joined = {
        j: pl.concat_str(pl.col(cells[j]), pl.col(cells[j + 1]), separator=",") for j in places
    }
    fits = {j: joined[j].str.contains(_SPLIT_NUMBER).fill_null(False) for j in places}
    return split.select(
        pl.Series("row", rows, dtype=pl.Int64),
        pl.coalesce(pl.when(fits[j]).then(pl.lit(names[j])) for j in places).alias("column"),
        pl.coalesce(pl.when(fits[j]).then(joined[j]) for j in places).alias("value"),
    ).drop_nulls("column")


def _field_findings(
    bad: BadRows | None, table: str, file: str, hints: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One error per row with a wrong field count (built as a frame: a file whose every row
    is short must not cost a Python object per row); where a decimal comma explains the
    extra field, the error says so and names the column and the value."""
    if bad is None or bad.rows.size == 0:
        return empty_findings()
    n = pl.col("fields")
    what = (
        pl.when(n > bad.header)
        .then(pl.lit("extra fields were not read"))
        .otherwise(pl.lit("missing fields were read as empty"))
    )
    counted = pl.format(FIELD_COUNT + "{} fields, header has {}", n, pl.lit(bad.header))
    value = pl.col("value")
    fixed = value.str.strip_chars().str.replace(",", ".", literal=True)
    hint = pl.format(
        "{}: `{}` looks like a decimal comma in an unquoted value; write {} or quote it",
        counted,
        value.str.strip_chars(),
        fixed,
    )
    rule = pl.when(value.is_null()).then(pl.format("{}; {}", counted, what)).otherwise(hint)
    rows = pl.DataFrame({"row": bad.rows, "fields": bad.fields}).cast({"row": pl.Int64})
    rows = rows.join(
        pl.DataFrame(schema=_HINTS) if hints is None else hints,
        on="row",
        how="left",
        maintain_order="left",
    )
    return rows.select(
        pl.lit(ERROR).alias("severity"),
        pl.lit(table).alias("table"),
        pl.col("row"),
        pl.col("column").cast(pl.Utf8),
        value.cast(pl.Utf8),
        rule.alias("rule"),
        pl.lit(file).alias("file"),
    )


def _drop_rows(frame: pl.DataFrame, empty: np.ndarray) -> tuple[pl.DataFrame, pl.Series | None]:
    if empty.size == 0:
        return frame, None
    keep = ~np.isin(np.arange(1, frame.height + 1), empty)
    rows = pl.Series("row", np.flatnonzero(keep) + 1, dtype=pl.Int64)
    return frame.filter(pl.Series(keep)), rows


def _empty_rows_warning(empty: np.ndarray, table: str, file: str) -> pl.DataFrame:
    if empty.size == 0:
        return empty_findings()
    first = int(empty[0])
    if empty.size == 1:
        rule = f"1 row with every cell empty was skipped (at row {first})"
    else:
        rule = f"{empty.size} rows with every cell empty were skipped (first at row {first})"
    return findings_frame([Finding(WARNING, table, first, None, None, rule, file)])


def _semicolon_warning(table: str, file: str) -> pl.DataFrame:
    rule = "the file is separated by ';' (European Excel), not ','; read with ';'"
    return findings_frame([Finding(WARNING, table, None, None, None, rule, file)])


# Numbers of a ';' file (European Excel: decimal comma, '.' groups thousands). Grouped:
# 1.234,5 or 1.234.567(,8): the dots can only group thousands. One group and no comma:
# 1.234 is 1234 or 1.234, and only the rest of its column can tell (see _numbers_in).
_GROUPED = r"^\s*[+-]?\d{1,3}(\.\d{3})+,\d+\s*$|^\s*[+-]?\d{1,3}(\.\d{3}){2,}\s*$"
_ONE_GROUP = r"^\s*[+-]?[1-9]\d{0,2}\.\d{3}\s*$"
_POINT = r"^\s*[+-]?\d*\.\d+\s*$"  # a decimal point: 7.5, .5, 0.125
AMBIGUOUS = (
    "ambiguous in a ';' file (decimal comma): {} is {} with a thousands separator or {} with "
    "a decimal point, and nothing else in the column tells; write {} or {}; not read"
)


def _decimal_commas(
    frame: pl.DataFrame,
    numeric: Collection[str],
    table: str,
    file: str,
    rows: pl.Series | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """In a semicolon file, numbers written 7,5 are read as 7.5 and 1.234,5 as 1234.5 (one
    warning per column); 1.234 is read as 1234 when the column has decimal commas, as
    1.234 when it has decimal points, and is an error otherwise (a factor of 1000 either
    way). `rows` holds the file row of each frame row (None: row i is i + 1)."""
    cols = [c for c in frame.columns if c in numeric]
    if not cols or frame.height == 0:
        return frame, empty_findings()
    facts = frame.select(_numbers_in(pl.col(c)).alias(c) for c in cols).row(0, named=True)
    fixed = {c: f["fixed"] for c, f in facts.items() if f["fixed"]}
    ambiguous = [c for c, f in facts.items() if f["ambiguous"]]
    errors = [_ambiguous_cells(frame, c, table, file, rows) for c in ambiguous]
    frame = frame.with_columns(
        _european(pl.col(c), facts[c]["commas"] > 0, c in ambiguous).alias(c)
        for c in {*fixed, *ambiguous}
    )
    warnings = [
        Finding(WARNING, table, None, c, None, _decimal_rule(n, facts[c]["grouped"]), file)
        for c, n in fixed.items()  # one per numeric column
    ]
    return frame, concat_findings([findings_frame(warnings), *errors])


def _numbers_in(text: pl.Expr) -> pl.Expr:
    """Counts over one column: decimal commas, grouped numbers, one-group numbers (1.234),
    other decimal points; `fixed` cells read differently from a point-decimal reading."""
    comma = text.str.contains(DECIMAL_COMMA)
    grouped = text.str.contains(_GROUPED)
    one = text.str.contains(_ONE_GROUP)
    point = text.str.contains(_POINT) & ~one
    commas = (comma | grouped).sum()
    # with a decimal comma in the column, 1.234 is 1234; with only points, it is 1.234
    thousands = pl.when(commas > 0).then(one.sum()).otherwise(0)
    return pl.struct(
        commas.alias("commas"),
        (comma.sum() + grouped.sum() + thousands).alias("fixed"),
        (grouped.sum() + thousands).alias("grouped"),
        ((one.sum() > 0) & (commas == 0) & (point.sum() == 0)).alias("ambiguous"),
    )


def _european(text: pl.Expr, commas: bool, ambiguous: bool) -> pl.Expr:
    """A column's numbers as Polars reads them (a point, no grouping)."""
    if ambiguous:  # reported; read as nothing rather than as one of two numbers
        return pl.when(text.str.contains(_ONE_GROUP)).then(None).otherwise(text)
    grouped = text.str.contains(_GROUPED) | (text.str.contains(_ONE_GROUP) & commas)
    ungrouped = pl.when(grouped).then(text.str.replace_all(".", "", literal=True)).otherwise(text)
    return ungrouped.str.replace(DECIMAL_COMMA, "${1}.${2}")


def _ambiguous_cells(
    frame: pl.DataFrame, column: str, table: str, file: str, rows: pl.Series | None
) -> pl.DataFrame:
    text = pl.col(column).str.strip_chars()
    grouped, pointed = text.str.replace(".", "", literal=True), text
    as_comma = text.str.replace(".", ",", literal=True)
    rule = pl.format(AMBIGUOUS, text, grouped, pointed, grouped, as_comma)
    found = finding_rows(
        frame,
        pl.col(column).str.contains(_ONE_GROUP),
        severity=ERROR,
        table=table,
        column=column,
        value=text,
        rule=rule,
        file=file,
    )
    return at_file_rows(found, rows)


def _decimal_rule(n: int, grouped: int) -> str:
    cells = "1 number" if n == 1 else f"{n} numbers"
    if grouped == 0:
        return f"{cells} written with a decimal comma read as with a point (7,5 = 7.5)"
    return (
        f"{cells} written with a decimal comma or '.' grouping thousands read as such "
        f"(7,5 = 7.5; 1.234,5 = 1234.5; {grouped} grouped)"
    )
