"""Malformed CSV rows, located on the raw bytes: rows with more fields than the header, and
quotes that are never closed. Used only when the fast Polars read of a file fails, so that a
coordinator is told which row to fix and every other row is still read.

The scan is vectorized NumPy over the bytes (RFC 4180 quoting: a field is quoted with ",
a quote inside it is doubled), never a Python loop per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUOTE, COMMA, NEWLINE, CR = ord('"'), ord(","), ord("\n"), ord("\r")
# bytes that may follow a closing quote (RFC 4180: end of field, end of record, or "")
_AFTER_CLOSE = np.array([COMMA, NEWLINE, CR, QUOTE], dtype=np.uint8)


@dataclass(frozen=True)
class BadRows:
    """Rows (1-based data rows, header = row 0) and the rule each breaks."""

    rows: list[int]
    rules: list[str]


def unterminated_quote(data: np.ndarray) -> int | None:
    """Byte offset of the opening quote of the first quoted field that is never properly
    closed, or None. Quotes pair up in order (open, close); a close must be followed by a
    separator, a line end, the end of the file or a second quote (an escaped quote)."""
    quotes = np.flatnonzero(data == QUOTE)
    if quotes.size == 0:
        return None
    closes = quotes[1::2]
    after = np.append(data, COMMA)[closes + 1]  # past the end counts as a separator
    bad = np.flatnonzero(~np.isin(after, _AFTER_CLOSE))
    if bad.size:
        return int(quotes[2 * bad[0]])  # the opening quote of the first bad pair
    if quotes.size % 2:
        return int(quotes[-1])  # an odd count: the last quote opens a field never closed
    return None


def line_of(data: np.ndarray, offset: int) -> int:
    """0-based physical line of a byte offset (the header is line 0)."""
    return int(np.count_nonzero(data[:offset] == NEWLINE))


def blank_line(data: np.ndarray, offset: int, fields: int) -> np.ndarray:
    """The bytes with the physical line holding `offset` replaced by `fields` empty fields:
    the row keeps its place (row numbers of later rows do not move) but none of its text."""
    newlines = np.flatnonzero(data == NEWLINE)
    line = np.searchsorted(newlines, offset)
    start = 0 if line == 0 else int(newlines[line - 1]) + 1
    end = int(newlines[line]) if line < newlines.size else data.size
    empty = np.full(fields - 1, COMMA, dtype=np.uint8)
    return np.concatenate([data[:start], empty, data[end:]])


def header_fields(data: np.ndarray) -> int:
    """Fields in the header (the first line; header names are not expected to hold newlines)."""
    newlines = np.flatnonzero(data == NEWLINE)
    head = data[: newlines[0]] if newlines.size else data
    outside = (np.cumsum(head == QUOTE, dtype=np.uint8) & 1) == 0
    return int(np.count_nonzero((head == COMMA) & outside)) + 1


def ragged_rows(data: np.ndarray) -> BadRows:
    """Rows with more fields than the header (quotes are assumed well formed)."""
    outside = (np.cumsum(data == QUOTE, dtype=np.uint8) & 1) == 0  # uint8 wraps: parity kept
    ends = np.flatnonzero((data == NEWLINE) & outside)
    if ends.size == 0 or ends[-1] != data.size - 1:
        ends = np.append(ends, data.size)  # the last record has no newline
    commas = np.flatnonzero((data == COMMA) & outside)
    per_record = np.bincount(np.searchsorted(ends, commas), minlength=ends.size) + 1
    header = int(per_record[0])
    rows = np.flatnonzero(per_record[1:] > header) + 1
    rules = [f"row has {int(per_record[r])} fields, header has {header}" for r in rows]
    return BadRows([int(r) for r in rows], rules)  # the few bad rows, not every row
