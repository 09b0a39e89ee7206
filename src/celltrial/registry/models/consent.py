"""Informed consent of a participant: no clinical data before it or after its withdrawal."""

from __future__ import annotations

from django.db import models

from celltrial.registry.models.study import Study

# Withdrawal scopes (ICH E6(R2) 4.8.10: a participant may withdraw at any time; data
# collected before withdrawal are kept, as FDA guidance "Data retention when subjects
# withdraw from FDA-regulated clinical trials" (2008) requires).
WITHDRAW_ALL = "all"  # no further data of any kind
WITHDRAW_TREATMENT = "treatment"  # no further infusions; follow-up data still allowed
SCOPES = (WITHDRAW_ALL, WITHDRAW_TREATMENT)


class Consent(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT)
    participant_id = models.TextField(db_index=True)
    form_version = models.TextField()
    date_signed = models.DateField()
    signed_by = models.TextField(help_text="who took the consent")
    withdrawal_date = models.DateField(null=True, blank=True)
    withdrawal_scope = models.CharField(
        max_length=20, null=True, blank=True, choices=[(s, s) for s in SCOPES]
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    table = "consent"
