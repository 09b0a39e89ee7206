"""Page parts computed from the study data, kept in Django's cache until the next change.
Every change of study data writes an audit entry (services.audit), so the latest audit
entry id names the state of the data: a part cached under it is never stale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from celltrial.registry.models import AuditEntry

T = TypeVar("T")
KEEP_SECONDS = 600  # a part unused for ten minutes is dropped (memory, not correctness)


def data_state() -> int:
    """The id of the latest audit entry: it changes with every change of study data."""
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def cached(parts: tuple, compute: Callable[[], T]) -> T:
    """compute(), or its value cached for these parts, the data state and today's date
    (due and overdue depend on the day)."""
    key = ":".join(str(p) for p in ("pages", *parts, data_state(), dt.date.today()))
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, KEEP_SECONDS)
    return found
