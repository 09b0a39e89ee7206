"""A study, its sites, and who may do what in it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Roles of the issue (REDCap user rights and LibreClinica's Role.java have the same split):
# admin manages users and studies; investigator and coordinator enter data; monitor reads
# and opens data queries; statistician reads de-identified exports only.
ADMIN, INVESTIGATOR, COORDINATOR, MONITOR, STATISTICIAN = (
    "admin",
    "investigator",
    "coordinator",
    "monitor",
    "statistician",
)
ROLES = (ADMIN, INVESTIGATOR, COORDINATOR, MONITOR, STATISTICIAN)
WRITERS = (ADMIN, INVESTIGATOR, COORDINATOR)
READERS = (ADMIN, INVESTIGATOR, COORDINATOR, MONITOR)


class Study(models.Model):
    study_id = models.CharField(max_length=100, unique=True)
    title = models.TextField(null=True, blank=True)
    protocol = models.TextField(null=True, blank=True, help_text="shipped protocol name")
    # a protocol read from a file beside an imported study folder, kept with the study
    protocol_yaml = models.TextField(null=True, blank=True)
    format_version = models.IntegerField(default=1)
    # a study made by CellTrial's simulator stays labelled so (StudyMeta.simulated/simulator)
    simulated = models.BooleanField(null=True, blank=True)
    simulator = models.JSONField(null=True, blank=True)
    # secret of the de-identified export (pseudonyms and date shifts), never exported
    deid_secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.study_id


class Site(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="sites")
    site_id = models.CharField(max_length=100)
    name = models.TextField(null=True, blank=True)

    class Meta:
        constraints = (models.UniqueConstraint(fields=["study", "site_id"], name="site_once"),)


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=[(r, r) for r in ROLES])
    sites = models.ManyToManyField(Site, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["user", "study"], name="one_role_per_study"),
        )
