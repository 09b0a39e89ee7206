"""Exported files appear whole or not at all: they are written beside the target under a
temporary name and renamed into place (a rename within one folder is atomic on POSIX), so an
interrupted export never leaves half a folder or half a workbook for someone to import.
Study folders have their own writer (folder.write_study); this is for other formats."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path


class OutputExists(FileExistsError):
    """The target holds files already; exports never mix with or overwrite other files."""


def write_new_folder(target: Path, fill: Callable[[Path], object]) -> Path:
    """`fill(tmp)` writes the files into a temporary folder, which becomes `target`; the
    target must not exist or be an empty folder."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputExists(f"{target}: exists and is not an empty folder; choose a new one")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        fill(tmp)
        if target.exists():
            target.rmdir()  # empty, checked above
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def write_new_file(target: Path, fill: Callable[[Path], object]) -> Path:
    """`fill(tmp)` writes a temporary file beside `target`, which then replaces it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}{target.suffix}"
    try:
        fill(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
