"""Printing the demo logins at `celltrial serve --demo`. The demo is built in a spawned
process: Polars' thread pool must not start in the server process, whose forked gunicorn
workers would inherit it locked and hang on their first Polars call. No Django import at
module level, so the spawned process can import this before Django is set up."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import typer

STUDY_ID, SITES = "lian2022-demo", ("SZ01", "SZ02")  # as celltrial.web.pages.demo


def _create_in(data_dir: str) -> list[tuple[str, str, str]]:
    from celltrial.web.boot import start

    start(Path(data_dir), migrate=False)
    from celltrial.web.pages.demo import create_demo

    return create_demo()


def print_demo(data_dir: Path, host: str, port: int) -> None:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        logins = pool.apply(_create_in, (str(data_dir.resolve()),))
    typer.echo(f"demo study {STUDY_ID} (simulated lian2022 at {', '.join(SITES)})")
    typer.echo(f"log in at http://{host}:{port}/login/ as (new passwords on every start):")
    for name, role, password in logins:
        typer.echo(f"  {role:<13} {name:<19} {password}")
