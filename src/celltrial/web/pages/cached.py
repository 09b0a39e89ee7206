"""Page parts computed from the study data, kept in Django's cache until the next change.
Every change of study data writes an audit entry (services.audit), so the latest audit
entry id names the state of the data: a part cached under it is never stale."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from celltrial.registry.models import AuditEntry

T = TypeVar("T")
KEEP_SECONDS = 600  # a part unused for ten minutes is dropped (memory, not correctness)
# one lock per key's hash modulo 64: parts of different keys rarely wait for each other
_LOCKS = tuple(threading.Lock() for _ in range(64))


def data_state() -> int:
    """The id of the latest audit entry: it changes with every change of study data."""
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def cached(parts: tuple, compute: Callable[[], T]) -> T:
    """compute(), or its value cached for these parts, the data state and today's date
    (due and overdue depend on the day). Threads of one server process that miss the same
    key together wait for the first one's value instead of each computing it (twenty
    users opening the dashboard after a change would otherwise build it twenty times)."""
    key = ":".join(str(p) for p in ("pages", *parts, data_state(), dt.date.today()))
    found = cache.get(key)
    if found is not None:
        return found
    with _LOCKS[hash(key) % len(_LOCKS)]:
        found = cache.get(key)  # computed by the thread this one waited for
        if found is None:
            found = compute()
            cache.set(key, found, KEEP_SECONDS)
    return found
