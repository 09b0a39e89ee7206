"""SDTM study day and ISO 8601 date-time text: the two conventions every SDTM domain shares."""

from __future__ import annotations

import polars as pl


def study_day(when: pl.Expr, reference: pl.Expr) -> pl.Expr:
    """--DY of a date or date-time against the reference start (RFSTDTC), by calendar date:
    date - RFSTDTC + 1 on or after the reference day, date - RFSTDTC before it, so there is no
    day 0 (SDTMIG 3.4 section 4.4.4)."""
    days = (when.dt.date() - reference.dt.date()).dt.total_days()
    return pl.when(days >= 0).then(days + 1).otherwise(days).cast(pl.Float64)


def iso_datetime(when: pl.Expr) -> pl.Expr:
    """ISO 8601 date-time to the minute, as collected (SDTMIG 3.4 section 4.4.2)."""
    return when.dt.strftime("%Y-%m-%dT%H:%M")


def iso_date(when: pl.Expr) -> pl.Expr:
    return when.dt.strftime("%Y-%m-%d")


def planned_day(protocol_day: int) -> int:
    """A protocol's day (0 = the anchor, e.g. the first infusion) as an SDTM planned study day:
    the anchor day is day 1 and the day before it day -1 (no day 0; SDTMIG 3.4 4.4.4)."""
    return protocol_day + 1 if protocol_day >= 0 else protocol_day
