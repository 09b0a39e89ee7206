"""`celltrial import ...` and `celltrial export ...`: the two command groups that exchange a
study with the tools centres already use (REDCap, Excel, SPSS, Stata, CDISC SDTM).

The groups are declared here once; each format's module adds its own commands to them.
"""

from __future__ import annotations

import typer

from celltrial.cli import app

import_app = typer.Typer(
    help="Read a study from another tool's files into a StudyData folder.", no_args_is_help=True
)
export_app = typer.Typer(
    help="Write a StudyData folder in another tool's format.", no_args_is_help=True
)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

# each format's commands, added to the groups above on import
from celltrial.cli import excel, export_formats, export_redcap, import_redcap  # noqa: E402, F401
