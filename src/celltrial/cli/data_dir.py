"""The data folder every registry command takes (--data-dir, CELLTRIAL_DATA_DIR, else the
current folder), so several registries can run side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def data_dir_option() -> Any:
    return typer.Option(
        Path("."),
        "--data-dir",
        envvar="CELLTRIAL_DATA_DIR",
        help="Folder of the registry database and secret key (default: the current folder).",
    )


def problems_text(problems: list) -> str:
    """Refusals one per line: 'field = value: message'."""
    lines = []
    for p in problems:
        where = (
            f"{p.field} = {p.value}: "
            if p.field and p.value is not None
            else (f"{p.field}: " if p.field else "")
        )
        lines.append(f"{where}{p.message}")
    return "\n".join(lines)
