"""The audit trail (21 CFR 11.10(e)): who, when, what, the values before and after, and
why, for every create, update and delete of study data. Entries are only ever added."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from celltrial.registry.models.study import Study

CREATE, UPDATE, DELETE = "create", "update", "delete"


class AuditEntry(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT)
    table = models.TextField()
    record_id = models.BigIntegerField()
    participant_id = models.TextField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=10)
    version = models.PositiveIntegerField(help_text="the record's version after the change")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.TextField(help_text="kept as it was when the change was made")
    at = models.DateTimeField()
    reason = models.TextField(null=True, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    class Meta:
        indexes = (models.Index(fields=["table", "record_id"], name="audit_record"),)
        ordering = ("id",)
