"""An output folder that appears complete or not at all: files are written into a hidden
temporary folder beside the target, which is renamed into place only when every file is
written (a rename within one file system is atomic, POSIX rename(2))."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputExists(Exception):
    """The output folder exists and holds files; nothing was written."""


@contextmanager
def complete_folder(target: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success it becomes `target`. An existing
    non-empty `target` is refused unless `force`, which replaces it only after the new
    folder is complete."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputExists(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise OutputExists(f"{target}: folder exists and is not empty (use --force to replace)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
