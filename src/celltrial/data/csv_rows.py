"""Malformed CSV rows, located on the raw bytes: rows with more or fewer fields than the
header, and quotes that are never closed. Used when the fast Polars read of a file fails, or
when it may have filled a short row with nulls, so that a coordinator is told which row to
fix and every other row is still read. The separator is a comma unless a file was detected as
semicolon-separated (European Excel).

The scan is vectorized NumPy over the bytes (RFC 4180 quoting: a field is quoted with ",
a quote inside it is doubled), never a Python loop per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

QUOTE, COMMA, NEWLINE, CR = ord('"'), ord(","), ord("\n"), ord("\r")


def _after_close(sep: int) -> np.ndarray:
    # bytes that may follow a closing quote (RFC 4180: end of field, end of record, or "")
    return np.array([sep, NEWLINE, CR, QUOTE], dtype=np.uint8)


@dataclass(frozen=True)
class BadRows:
    """Rows (1-based data rows, header = row 0) whose field count differs from the header."""

    rows: np.ndarray
    fields: np.ndarray  # fields in each of those rows
    header: int  # fields in the header


def unterminated_quote(data: np.ndarray, sep: int = COMMA) -> int | None:
    """Byte offset of the opening quote of the first quoted field that is never properly
    closed, or None. Quotes pair up in order (open, close); a close must be followed by a
    separator, a line end, the end of the file or a second quote (an escaped quote)."""
    quotes = np.flatnonzero(data == QUOTE)
    if quotes.size == 0:
        return None
    closes = quotes[1::2]
    after = np.append(data, sep)[closes + 1]  # past the end counts as a separator
    bad = np.flatnonzero(~np.isin(after, _after_close(sep)))
    if bad.size:
        return int(quotes[2 * bad[0]])  # the opening quote of the first bad pair
    if quotes.size % 2:
        return int(quotes[-1])  # an odd count: the last quote opens a field never closed
    return None


def line_of(data: np.ndarray, offset: int) -> int:
    """0-based physical line of a byte offset (the header is line 0)."""
    return int(np.count_nonzero(data[:offset] == NEWLINE))


def blank_line(data: np.ndarray, offset: int, fields: int, sep: int = COMMA) -> np.ndarray:
    """The bytes with the physical line holding `offset` replaced by `fields` empty fields:
    the row keeps its place (row numbers of later rows do not move) but none of its text."""
    newlines = np.flatnonzero(data == NEWLINE)
    line = np.searchsorted(newlines, offset)
    start = 0 if line == 0 else int(newlines[line - 1]) + 1
    end = int(newlines[line]) if line < newlines.size else data.size
    empty = np.full(fields - 1, sep, dtype=np.uint8)
    return np.concatenate([data[:start], empty, data[end:]])


def header_fields(data: np.ndarray, sep: int = COMMA) -> int:
    """Fields in the header (the first line; header names are not expected to hold newlines)."""
    newlines = np.flatnonzero(data == NEWLINE)
    head = data[: newlines[0]] if newlines.size else data
    outside = (np.cumsum(head == QUOTE, dtype=np.uint8) & 1) == 0
    return int(np.count_nonzero((head == sep) & outside)) + 1


def record_fields(data: np.ndarray, sep: int = COMMA) -> np.ndarray:
    """Fields in each record (index 0 = the header), quotes assumed well formed: separators
    inside quotes do not count, nor do newlines inside quotes end a record."""
    outside = (np.cumsum(data == QUOTE, dtype=np.uint8) & 1) == 0  # uint8 wraps: parity kept
    ends = np.flatnonzero((data == NEWLINE) & outside)
    if ends.size == 0 or ends[-1] != data.size - 1:
        ends = np.append(ends, data.size)  # the last record has no newline
    seps = np.flatnonzero((data == sep) & outside)
    return np.bincount(np.searchsorted(ends, seps), minlength=ends.size) + 1


def line_fields(data: bytes, sep: str, rows: np.ndarray) -> np.ndarray:
    """Fields in the given 1-based data rows of a file without quotes (one record per line).
    Polars splits the lines (one text column: the unit separator byte is not in the data),
    ~5x faster than the byte scan of record_fields on large files."""
    lines = pl.read_csv(
        data, separator="\x1f", quote_char=None, infer_schema=False, raise_if_empty=False
    )
    picked = lines[:, 0].gather(rows - 1)
    return (picked.str.count_matches(sep, literal=True).fill_null(0) + 1).to_numpy()


def unusable_for_lines(data: bytes) -> bool:
    """True when line_fields cannot be used: quotes (a record may span lines, a separator
    may be quoted) or the unit separator byte it splits on."""
    return b'"' in data or b"\x1f" in data


def ragged_rows(counts: np.ndarray, skip: np.ndarray | None = None) -> BadRows:
    """Rows whose field count (record_fields) differs from the header's; rows in `skip`
    (1-based: empty rows, rows already reported) are left out."""
    rows = np.flatnonzero(counts[1:] != counts[0]) + 1
    if skip is not None and skip.size:
        rows = rows[~np.isin(rows, skip)]
    return BadRows(rows, counts[rows], int(counts[0]))


def pick_records(data: np.ndarray, rows: np.ndarray) -> bytes:
    """The text of the given 1-based data rows (ascending), each ending in a newline, in
    order: a small CSV of just those records (quoted separators and newlines kept whole).
    Gathered by index ranges, so memory follows the rows picked, not the file."""
    newline = data == NEWLINE
    quotes = data == QUOTE
    if quotes.any():  # the parity scan only when a newline may be quoted
        newline &= (np.cumsum(quotes, dtype=np.uint8) & 1) == 0  # uint8 wraps: parity kept
    ends = np.flatnonzero(newline)
    if ends.size == 0 or ends[-1] != data.size - 1:
        ends = np.append(ends, data.size)  # the last record has no newline
    rows = rows[rows < ends.size]
    starts, stops = ends[rows - 1] + 1, np.minimum(ends[rows] + 1, data.size)
    lengths = stops - starts
    # one arange over all picked bytes, shifted per record to its start
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    picked = data[np.arange(int(lengths.sum())) + shift]
    if picked.size and picked[-1] != NEWLINE:
        picked = np.append(picked, np.uint8(NEWLINE))
    return picked.tobytes()
