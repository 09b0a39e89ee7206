"""Arguments several verbs share, spelled once so their help reads the same everywhere."""

from __future__ import annotations

from typing import Any

import typer


def study_dir_argument() -> Any:
    return typer.Argument(
        ..., metavar="STUDY_DIR", help="The study folder (study.yaml + table files)."
    )
