"""The `celltrial` command: one verb per job, each in a module of this package.

Exit status: 0 done, 1 findings (such as data errors), 2 bad usage or unreadable input.
"""

from __future__ import annotations

import typer

from celltrial import __version__

app = typer.Typer(
    name="celltrial",
    help="Run, analyse and simulate studies of UC-MSC infusion in type 2 diabetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"celltrial {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """CellTrial: studies of umbilical-cord MSC infusion in type 2 diabetes."""


def _register() -> None:
    # Each verb module adds its commands to `app` on import.
    from celltrial.cli import (
        analyze,  # noqa: F401
        demo,  # noqa: F401
        exchange,  # noqa: F401
        expect,  # noqa: F401
        power,  # noqa: F401
        protocol,  # noqa: F401
        randomize,  # noqa: F401
        registry,  # noqa: F401
        serve,  # noqa: F401
        simulate,  # noqa: F401
        users,  # noqa: F401
        validate,  # noqa: F401
    )


def main() -> None:
    _register()
    app()
