"""Counts in messages: "1 error", "2 errors", never "1 errors"."""

from __future__ import annotations


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun in the number it takes (English: singular for exactly one)."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def errors_and_warnings(errors: int, warnings: int) -> str:
    return f"{counted(errors, 'error')}, {counted(warnings, 'warning')}"
