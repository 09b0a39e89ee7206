"""`celltrial user add USERNAME --role ROLE --study STUDY_ID --site SITE` and
`celltrial user list`: the people of a registry and their role and sites per study."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from celltrial.cli import app
from celltrial.cli.consoles import stdout_console
from celltrial.cli.data_dir import data_dir_option, problems_text
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS

user_app = typer.Typer(help="Registry users: add them, list them.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def add_command(
    username: str = typer.Argument(..., metavar="USERNAME"),
    role: str = typer.Option(
        ..., "--role", help="admin, investigator, coordinator, monitor or statistician."
    ),
    study: str = typer.Option(..., "--study", help="The study id the role is for."),
    site: list[str] = typer.Option([], "--site", help="A site of the study (repeat for more)."),
    password_env: str | None = typer.Option(
        None, "--password-env", help="Read the password from this environment variable."
    ),
    data_dir: Path = data_dir_option(),
) -> None:
    """Add a user (or give an existing one a role in another study). The password is read
    from standard input unless --password-env names a variable holding it."""
    err = Console(stderr=True)
    password = _password(password_env)
    if not password:
        err.print("[red]no password given[/red] (standard input or --password-env VAR)")
        raise typer.Exit(BAD_INPUT)
    from celltrial.web.boot import start

    start(data_dir)
    from celltrial.registry.services.errors import Refused
    from celltrial.registry.services.users import add_user

    try:
        member = add_user(username, password, role, study, site)
    except Refused as exc:
        err.print(Text(problems_text(exc.problems), style="red"), soft_wrap=True)
        raise typer.Exit(FINDINGS) from None
    sites = ", ".join(sorted(s.site_id for s in member.sites.all())) or "none"
    typer.echo(f"user {username}: {member.role} of study {study}, sites {sites}")
    raise typer.Exit(DONE)


def _password(variable: str | None) -> str:
    if variable:
        return os.environ.get(variable, "")
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\n")


@user_app.command("list")
def list_command(data_dir: Path = data_dir_option()) -> None:
    """Every user with their role and sites per study."""
    from celltrial.web.boot import start

    start(data_dir)
    from celltrial.registry.services.users import list_memberships

    table = Table("user", "study", "role", "sites", title="registry users")
    for m in list_memberships():  # one row per membership: a handful of people
        sites = ", ".join(sorted(s.site_id for s in m.sites.all()))
        table.add_row(Text(m.user.username), Text(m.study.study_id), m.role, Text(sites))
    stdout_console().print(table)
    raise typer.Exit(DONE)
