"""Exit statuses shared by every verb (DESIGN.md, interfaces a person uses), and the one
way a verb refuses bad usage or unreadable input: one red line on stderr, exit 2."""

from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

DONE = 0
FINDINGS = 1
BAD_INPUT = 2


def bad_input(message: str) -> NoReturn:
    Console(stderr=True).print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(BAD_INPUT)
