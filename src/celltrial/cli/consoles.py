"""The console every verb prints its tables to, sized so piped output is never cut."""

from __future__ import annotations

import sys

from rich.console import Console

# Rich assumes 80 columns when stdout is not a terminal and then wraps or elides cells; piped
# output (files, CI logs, grep) should keep each row whole, so it gets room for any row.
PIPED_WIDTH = 1000


def on_terminal() -> bool:
    return sys.stdout.isatty()


def stdout_console() -> Console:
    """The terminal's width on a terminal, PIPED_WIDTH when piped or redirected."""
    return Console(width=None if on_terminal() else PIPED_WIDTH)
