"""Safety alerts for the investigators of a site (issue 12) and the investigator's
signature of a participant's forms, which locks them until unlocked with a reason."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from celltrial.registry.models.study import Study

# What raises an alert (issue 12): a serious adverse event, an adverse event of grade 3 or
# more, a lab value outside its plausible range, a hypoglycaemia below 3.0 mmol/L.
SAE, AE_GRADE, IMPLAUSIBLE, HYPO = "sae", "ae_grade", "implausible_lab", "hypoglycaemia"
KINDS = (SAE, AE_GRADE, IMPLAUSIBLE, HYPO)


class Alert(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT)
    site_id = models.TextField(db_index=True)
    participant_id = models.TextField(db_index=True)
    table = models.TextField()
    record_id = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=[(k, k) for k in KINDS])
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_name = models.TextField(null=True, blank=True, help_text="as at the time")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = (models.Index(fields=["study", "acknowledged_at"], name="alert_open"),)


class Signature(models.Model):
    """21 CFR 11.50: a signature shows the signer's name, the date and time and its meaning."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT)
    participant_id = models.TextField(db_index=True)
    meaning = models.TextField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_name = models.TextField()
    signed_at = models.DateTimeField()
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlock_reason = models.TextField(null=True, blank=True)
