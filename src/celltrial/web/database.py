"""The database the registry uses: SQLite in the data folder, or PostgreSQL when
DATABASE_URL names one (DESIGN.md, stack)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

SQLITE_FILE = "celltrial.sqlite3"
# Seconds a writer waits for SQLite's lock before failing (sqlite3 `timeout`, i.e. the
# busy timeout): long enough for 50 concurrent API users (bench/registry_load.py).
BUSY_TIMEOUT_S = 30
# WAL lets readers work while one writer commits (https://sqlite.org/wal.html);
# synchronous=NORMAL is the setting SQLite recommends with WAL (https://sqlite.org/pragma.html).
SQLITE_INIT = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"


class DatabaseUrlError(ValueError):
    pass


def database_settings(data_dir: Path, url: str | None) -> dict:
    """Django's DATABASES["default"] for a data folder, or for DATABASE_URL when set."""
    if url:
        return _postgres(url)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(data_dir / SQLITE_FILE),
        "OPTIONS": {
            # IMMEDIATE: a write transaction takes the lock when it starts, so concurrent
            # writers wait (busy timeout) instead of failing on upgrade (Django 5.1 notes)
            "transaction_mode": "IMMEDIATE",
            "timeout": BUSY_TIMEOUT_S,
            "init_command": SQLITE_INIT,
        },
        "TEST": {"NAME": str(data_dir / f"test_{SQLITE_FILE}")},
    }


def _postgres(url: str) -> dict:
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise DatabaseUrlError(
            f"DATABASE_URL must start with postgresql:// (got {parts.scheme or 'no'} scheme)"
        )
    name = parts.path.lstrip("/")
    if not name:
        raise DatabaseUrlError("DATABASE_URL names no database (postgresql://host/NAME)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(name),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
    }
