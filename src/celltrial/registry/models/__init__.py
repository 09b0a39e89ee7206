"""Registry models: the study and who may see it, the eight StudyData tables, consent,
data queries, the audit trail and API tokens."""

from celltrial.registry.models.alerts import Alert, Signature
from celltrial.registry.models.audit import AuditEntry
from celltrial.registry.models.clinical import (
    CLINICAL_MODELS,
    AdverseEvent,
    ClinicalRow,
    Infusion,
    Lot,
    Measurement,
    Medication,
    Participant,
    Screening,
    Visit,
)
from celltrial.registry.models.consent import Consent
from celltrial.registry.models.queries import DataQuery
from celltrial.registry.models.study import ROLES, Membership, Site, Study
from celltrial.registry.models.tokens import ApiToken, LoginLock

__all__ = [
    "CLINICAL_MODELS",
    "ROLES",
    "AdverseEvent",
    "Alert",
    "ApiToken",
    "AuditEntry",
    "ClinicalRow",
    "Consent",
    "DataQuery",
    "Infusion",
    "LoginLock",
    "Lot",
    "Measurement",
    "Medication",
    "Membership",
    "Participant",
    "Screening",
    "Signature",
    "Site",
    "Study",
    "Visit",
]
