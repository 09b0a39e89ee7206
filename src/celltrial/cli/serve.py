"""`celltrial serve`: the registry web server (gunicorn, a production WSGI server), on a
SQLite database in the data folder (created and migrated on first start) or on the
PostgreSQL database DATABASE_URL names."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from celltrial.cli import app
from celltrial.cli.data_dir import data_dir_option

WORKERS = 2  # gunicorn's (2 x cores) + 1 rule on this project's 2-core machines, minus the db
THREADS = 8  # threads per worker: requests mostly wait on the database


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    data_dir: Path = data_dir_option(),
    debug: bool = typer.Option(False, "--debug", help="Django DEBUG (never in production)."),
    workers: int = typer.Option(WORKERS, "--workers", min=1, help="gunicorn worker processes."),
    demo: bool = typer.Option(
        False, "--demo", help="Add a simulated lian2022 study at two sites and demo users."
    ),
) -> None:
    """Serve the registry: JSON API under /api/, OpenAPI document at /api/openapi.json."""
    from celltrial.web.boot import start

    start(data_dir, debug=debug)  # creates and migrates the database before workers fork
    if demo:  # registry pages (issue 12)
        from celltrial.web.pages.demo_start import print_demo

        print_demo(data_dir, host, port)
    hosts = os.environ.get("CELLTRIAL_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
    if host not in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
        hosts = f"{hosts},{host}"
    if host in ("0.0.0.0", "::"):
        hosts = "*"  # listening on every address: the operator's proxy decides the name
    os.environ["CELLTRIAL_ALLOWED_HOSTS"] = hosts
    typer.echo(f"serving {data_dir.resolve()} on http://{host}:{port}/api/ (Ctrl-C stops)")
    from gunicorn.app.wsgiapp import WSGIApplication

    argv = [
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(THREADS),
        "--access-logfile",
        "-",
        "--no-control-socket",  # several registries may run side by side
        "--limit-request-line",
        "8190",  # gunicorn's maximum: query strings of a few ids in UTF-8 percent-encoding
        "celltrial.web.wsgi:application",
    ]
    import sys

    sys.argv = argv
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
