"""A study on disk: a folder with study.yaml and one <table>.csv or <table>.parquet per
table (DESIGN.md, StudyData). Reading is lenient: cells that do not fit become findings kept
with the StudyData; only a folder that cannot be read at all raises StudyReadError.
Writing is atomic: the new folder is written beside the target and swapped in."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import sys
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Literal

import polars as pl
import yaml

from celltrial.data.canonical import entry_columns, entry_names, to_canonical
from celltrial.data.cells import type_columns
from celltrial.data.csv_table import CsvTable, read_csv_table
from celltrial.data.findings import (
    ERROR,
    MISSING_COLUMN,
    WARNING,
    Check,
    Finding,
    at_file_rows,
    concat_findings,
    empty_findings,
    enforce,
    findings_frame,
)
from celltrial.data.misnamed import unknown_files
from celltrial.data.read_error import StudyReadError
from celltrial.data.schema import TABLES, TableSchema, empty_frame
from celltrial.data.study import FORMAT_VERSION, StudyData, StudyMeta
from celltrial.data.validation import validate

STUDY_FILE = "study.yaml"
FORMATS = ("csv", "parquet")


def read_study(path: str | os.PathLike[str], *, check: Check = "raise") -> StudyData:
    """Read a study folder; values are converted to canonical units on load.

    The study is validated (celltrial.data.validate, the rules of the data; the protocol's
    own rules are checked by analyze_study and `celltrial validate`): with check="raise" a
    study with errors is refused with InvalidStudyError, and warnings are issued as
    StudyWarning; "warn" issues both as warnings and returns the study; "skip" does not
    validate (the caller will). Only a folder that cannot be read at all raises
    StudyReadError, whatever `check` says."""
    study = _read_folder(path)
    if check != "skip":
        enforce(validate(study), check, str(path))
    return study


def _read_folder(path: str | os.PathLike[str]) -> StudyData:
    folder = Path(path)
    recover_interrupted_write(folder)
    if not folder.exists():
        raise StudyReadError(f"{folder}: no such folder (expected a study folder with study.yaml)")
    if not folder.is_dir():
        raise StudyReadError(f"{folder}: not a folder (expected a study folder with study.yaml)")
    meta = _read_meta(folder / STUDY_FILE)
    frames: dict[str, pl.DataFrame] = {}
    found: list[pl.DataFrame] = []
    sources: dict[str, str] = {}
    rows: dict[str, pl.Series] = {}
    names: dict[str, dict[str, str]] = {}
    for name, schema in TABLES.items():
        file = _table_file(folder, name)
        if file is None:
            frames[name] = empty_frame(name)
            continue
        sources[name] = str(file)
        if file.is_dir():  # Parquet readers would take a folder for a partitioned dataset
            raise StudyReadError(f"{file}: is a folder, not a table file")
        try:
            raw = _read_raw(file, schema)
        except OSError as exc:  # permissions, a folder named like a table file, I/O errors
            raise StudyReadError(f"{file}: cannot be read ({_os_reason(exc)})") from None
        frames[name], table_findings = conform_table(raw.frame, schema, str(file))
        found += [raw.findings, at_file_rows(table_findings, raw.rows)]
        if raw.rows is not None:
            rows[name] = raw.rows
        if name == "measurements":  # findings name the entry columns as the file does
            names[name] = entry_names([c.strip() for c in raw.frame.columns])
    known = {STUDY_FILE} | {f"{t}.{ext}" for t in TABLES for ext in FORMATS}
    found.insert(0, unknown_files(folder, known, sources, _protocol_file(folder, meta)))
    return StudyData(
        meta=meta,
        **frames,
        load_findings=concat_findings(found),
        source_files=sources,
        file_rows=rows,
        file_columns=names,
    )


def _protocol_file(folder: Path, meta: StudyMeta) -> str | None:
    """The name of the protocol file study.yaml names when it lies in the folder."""
    spec = meta.protocol
    if spec is None or Path(spec).is_absolute() or not (folder / spec).is_file():
        return None
    return Path(spec).name if Path(spec).parent == Path(".") else None


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _read_meta(file: Path) -> StudyMeta:
    if file.is_dir():
        raise StudyReadError(f"{file}: is a folder, not a file")
    if not file.is_file():
        raise StudyReadError(f"{file}: missing (a study folder needs {STUDY_FILE})")
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StudyReadError(f"{file}: cannot be read ({_os_reason(exc)})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StudyReadError(f"{file}: not readable YAML ({first})") from None
    if not isinstance(doc, dict) or not doc.get("study_id"):
        raise StudyReadError(f"{file}: must be a mapping with a study_id")
    version = doc.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StudyReadError(
            f"{file}: format_version {version!r} is not supported (this CellTrial reads "
            f"up to {FORMAT_VERSION})"
        )
    return StudyMeta(
        study_id=str(doc["study_id"]),
        protocol=None if doc.get("protocol") is None else str(doc["protocol"]),
        format_version=version,
        title=None if doc.get("title") is None else str(doc["title"]),
        simulated=True if doc.get("simulated") is True else None,
        simulator=doc["simulator"] if isinstance(doc.get("simulator"), dict) else None,
    )


def _table_file(folder: Path, name: str) -> Path | None:
    present = [folder / f"{name}.{ext}" for ext in FORMATS if (folder / f"{name}.{ext}").exists()]
    if len(present) > 1:
        raise StudyReadError(
            f"{present[0]}: both {name}.csv and {name}.parquet exist; keep only one"
        )
    return present[0] if present else None


def _read_raw(file: Path, schema: TableSchema) -> CsvTable:
    if file.suffix == ".parquet":
        try:
            return CsvTable(pl.read_parquet(file), empty_findings())
        except Exception as exc:  # any Parquet failure means the file is unreadable
            raise StudyReadError(f"{file}: not a readable Parquet file ({_first(exc)})") from None
    names = [c.name for c in schema.columns]
    numeric = [c.name for c in schema.columns if c.dtype == pl.Float64]
    if schema.name == "measurements":
        numeric.append("value_as_entered")  # the entry is text in the schema, a number here
    return read_csv_table(file, schema.name, names, numeric)


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def conform_table(
    raw: pl.DataFrame, schema: TableSchema, file: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Schema columns in schema order (missing ones null), typed; extra columns kept. Also
    used by the other readers (REDCap, Excel) on their text tables; `file` None for tables
    built in memory."""
    if raw.width == 0:  # an empty file: already reported, read as no rows
        return empty_frame(schema.name), empty_findings()
    raw = raw.rename({c: c.strip() for c in raw.columns if c != c.strip()})
    found = [_column_findings(raw, schema, file)]
    if schema.name == "measurements":
        # value/unit are recomputed from the entry; their text lives on as the entry.
        raw = entry_columns(raw).drop("value", "unit")
    missing = [c for c in schema.columns if c.name not in raw.columns]
    raw = raw.with_columns(pl.lit(None, c.dtype).alias(c.name) for c in missing)
    typed, cell_findings = type_columns(raw, schema, file)
    found.append(cell_findings)
    if schema.name == "measurements":
        typed = to_canonical(typed)
    extra = [c for c in typed.columns if c not in schema.polars_schema]
    # indexing by name, not select(): select reads a header such as "*" as every column.
    # One chunk per column: the converted columns come out in one chunk and the others in the
    # reader's; misaligned chunks make every later filter and join realign them (2x slower)
    return typed[[*schema.polars_schema, *extra]].rechunk(), concat_findings(found)


def _column_findings(raw: pl.DataFrame, schema: TableSchema, file: str | None) -> pl.DataFrame:
    have = set(raw.columns)
    needed = set(schema.required)
    if schema.name == "measurements":
        # the entry may come as value/unit or as value_as_entered/unit_as_entered
        needed -= {"value", "unit"}
        if not ({"value", "value_as_entered"} & have):
            needed.add("value")
        if not ({"unit", "unit_as_entered"} & have):
            needed.add("unit")
    missing = [
        Finding(ERROR, schema.name, None, c, None, MISSING_COLUMN, file)
        for c in sorted(needed - have)
    ]
    twice = [
        Finding(
            ERROR,
            schema.name,
            None,
            c.split("_duplicated_")[0],
            None,
            "column appears more than once in the header; only the first is read",
            file,
        )
        for c in sorted(have)
        if "_duplicated_" in c  # polars renames repeated header names
    ]
    unknown = [
        Finding(WARNING, schema.name, None, c, None, _unknown_rule(c), file)
        for c in sorted(have - set(schema.polars_schema))
        if "_duplicated_" not in c
    ]
    return findings_frame(missing + twice + unknown)


def _unknown_rule(column: str) -> str:
    if ";" in column or "\t" in column:
        return "unknown column (kept as text); the file must be separated by commas"
    return "unknown column (kept as text)"


def write_study(
    study: StudyData,
    path: str | os.PathLike[str],
    format: Literal["csv", "parquet"] = "csv",
) -> Path:
    """Write the study folder atomically; other files already in the folder are kept."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target}: exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted_write(target)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _write_into(study, tmp, format)
        if target.exists():
            _keep_other_files(target, tmp)
        _swap(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _write_into(study: StudyData, folder: Path, format: str) -> None:
    meta = {k: v for k, v in asdict(study.meta).items() if v is not None}
    (folder / STUDY_FILE).write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    for name, frame in study.tables().items():
        frame = _all_columns(frame, TABLES[name])
        file = folder / f"{name}.{format}"
        if format == "parquet":
            frame.write_parquet(file)
        else:
            frame.write_csv(file, datetime_format="%Y-%m-%dT%H:%M:%S%.f")


def _all_columns(frame: pl.DataFrame, schema: TableSchema) -> pl.DataFrame:
    """Every schema column, in schema order (absent ones empty), then any extra columns."""
    absent = [c for c in schema.columns if c.name not in frame.columns]
    frame = frame.with_columns(pl.lit(None, c.dtype).alias(c.name) for c in absent)
    extra = [c for c in frame.columns if c not in schema.polars_schema]
    return frame.select([*schema.polars_schema, *extra])


def _keep_other_files(old: Path, new: Path) -> None:
    ours = {STUDY_FILE} | {f"{t}.{ext}" for t in TABLES for ext in FORMATS}
    for entry in old.iterdir():
        if entry.name in ours or (new / entry.name).exists():
            continue
        if entry.is_dir():
            shutil.copytree(entry, new / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, new / entry.name, follow_symlinks=False)


def _swap(new: Path, target: Path) -> None:
    """Put `new` in place of `target`. On Linux the two are exchanged in one atomic step
    (renameat2 RENAME_EXCHANGE), so the study folder exists at every instant; elsewhere two
    renames, and a crash between them leaves the old folder as .<name>.old-*, which the next
    read_study or write_study puts back (recover_interrupted_write)."""
    if not target.exists():
        new.rename(target)
        return
    if exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old folder
        return
    old = target.parent / f"{_old_prefix(target)}{uuid.uuid4().hex[:8]}"
    target.rename(old)
    try:
        new.rename(target)
    except OSError:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _old_prefix(target: Path) -> str:
    return f".{target.name}.old-"


def recover_interrupted_write(target: Path) -> Path | None:
    """If a write was interrupted between its two renames (the study folder is missing and
    a .<name>.old-* folder is left beside it), put the old folder back; returns what was
    restored. When the study folder exists, leftovers are not touched."""
    if target.exists() or not target.parent.is_dir():
        return None
    left = sorted(
        target.parent.glob(f"{_old_prefix(target)}*"), key=lambda p: p.stat().st_mtime
    )  # normally one
    if not left:
        return None
    left[-1].rename(target)
    return left[-1]


# linux/fs.h: RENAME_EXCHANGE atomically exchanges the two paths; AT_FDCWD: relative to cwd
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> ctypes._CFuncPtr | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2  # glibc >= 2.28
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two existing paths; False when the system cannot (not Linux, old
    libc or kernel, a file system without support), so the caller falls back."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
