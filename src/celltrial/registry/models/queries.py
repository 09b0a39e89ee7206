"""Data queries a monitor opens on a record and the site answers (LibreClinica's
discrepancy notes: open, answered, closed; only a monitor closes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from celltrial.registry.models.study import Study

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
STATUSES = (OPEN, ANSWERED, CLOSED)


class DataQuery(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT)
    participant_id = models.TextField(db_index=True)
    table = models.TextField()
    record_id = models.BigIntegerField(null=True, blank=True)
    field = models.TextField(null=True, blank=True)
    text = models.TextField()
    answer = models.TextField(null=True, blank=True)
    status = models.CharField(max_length=20, default=OPEN, choices=[(s, s) for s in STATUSES])
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)
