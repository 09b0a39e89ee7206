"""REDCap's date and date-time validation types. A raw export writes every date Y-M-D
whatever the field's display format; a labelled export, or a file saved by a spreadsheet,
may carry the display format (31-12-2019 for date_dmy). Both are read, to ISO text.

Formats from the REDCap 14 field validation list: date_ymd/mdy/dmy, datetime_ymd/mdy/dmy
(HH:MM), datetime_seconds_ymd/mdy/dmy (HH:MM:SS).
"""

from __future__ import annotations

import polars as pl

_ORDER = {"ymd": "%Y-%m-%d", "mdy": "%m-%d-%Y", "dmy": "%d-%m-%Y"}
ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = "%Y-%m-%d %H:%M:%S"


def is_date(validation: str | None) -> bool:
    return bool(validation) and str(validation).startswith("date_")


def is_datetime(validation: str | None) -> bool:
    return bool(validation) and str(validation).startswith("datetime_")


def display_format(validation: str) -> str:
    """How REDCap shows the type, for messages: date_dmy -> DD-MM-YYYY."""
    order = validation.rsplit("_", 1)[-1]
    day = {"ymd": "YYYY-MM-DD", "mdy": "MM-DD-YYYY", "dmy": "DD-MM-YYYY"}.get(order, "YYYY-MM-DD")
    if validation.startswith("datetime_seconds"):
        return f"{day} HH:MM:SS"
    return f"{day} HH:MM" if validation.startswith("datetime") else day


def iso_cells(cells: pl.Series, validation: str) -> pl.Series:
    """iso_text over a column, the strptime work done only for cells not already ISO: a raw
    export (every date Y-M-D) costs one parse of the column, and its text is kept as is."""
    if is_date(validation):
        iso = cells.str.to_date(ISO_DATE, strict=False)
    else:
        iso = pl.select(
            pl.coalesce(
                pl.lit(cells).str.to_datetime(f"{ISO_DATE} %H:%M:%S", strict=False),
                pl.lit(cells).str.to_datetime(f"{ISO_DATE} %H:%M", strict=False),
            )
        ).to_series()
    other = (iso.is_null() & cells.is_not_null()).arg_true()
    if other.len() == 0:
        return cells
    fixed = pl.select(iso_text(pl.lit(cells.gather(other)), validation)).to_series()
    return cells.scatter(other, fixed)


def iso_text(text: pl.Expr, validation: str) -> pl.Expr:
    """The cell as ISO text (YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS), null when it is not a
    date of this type; / and . are read as - (31/12/2019, 31.12.2019)."""
    order = validation.rsplit("_", 1)[-1]
    day = _ORDER.get(order, ISO_DATE)
    clean = text.str.strip_chars().str.replace_all(r"^(\d+)[/.](\d+)[/.](\d+)", "${1}-${2}-${3}")
    clean = clean.str.replace("T", " ", literal=True)
    if validation.startswith("date_"):
        days = [ISO_DATE] if day == ISO_DATE else [ISO_DATE, day]
        parsed = pl.coalesce([clean.str.to_date(f, strict=False) for f in days])
        return parsed.dt.to_string(ISO_DATE)
    formats = [
        f"{d} {t}"
        for d in dict.fromkeys([ISO_DATE, day])
        for t in ("%H:%M:%S%.f", "%H:%M:%S", "%H:%M")
    ]
    parsed = pl.coalesce([clean.str.to_datetime(f, time_unit="us", strict=False) for f in formats])
    return parsed.dt.to_string(ISO_DATETIME)
