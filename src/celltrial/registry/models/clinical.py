"""The eight StudyData tables as models. Each row belongs to a study, carries a version
for optimistic locking and is never hard-deleted (deleted flag and reason)."""

from __future__ import annotations

from django.db import models

from celltrial.data.schema import TABLES
from celltrial.registry.models.fields import schema_fields
from celltrial.registry.models.study import Study


class ClinicalRow(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT)
    version = models.PositiveIntegerField(default=1)
    deleted = models.BooleanField(default=False)
    deleted_reason = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    table: str = ""  # the StudyData table the model holds

    class Meta:
        abstract = True


def _model(table: str, name: str) -> type[ClinicalRow]:
    schema = TABLES[table]
    meta = type(
        "Meta",
        (),
        {
            "constraints": [
                # a key is unique among the rows not deleted, as validate() requires
                models.UniqueConstraint(
                    fields=["study", *schema.key],
                    condition=models.Q(deleted=False),
                    name=f"{table}_key",
                )
            ],
            "indexes": [models.Index(fields=["study", "deleted"], name=f"{table}_live")],
        },
    )
    attrs = {"__module__": __name__, "Meta": meta, "table": table, **schema_fields(schema)}
    return type(name, (ClinicalRow,), attrs)


Participant = _model("participants", "Participant")
Screening = _model("screening", "Screening")
Lot = _model("lots", "Lot")
Infusion = _model("infusions", "Infusion")
Visit = _model("visits", "Visit")
Measurement = _model("measurements", "Measurement")
Medication = _model("medications", "Medication")
AdverseEvent = _model("adverse_events", "AdverseEvent")

# table name -> model, in the schema's order
CLINICAL_MODELS: dict[str, type[ClinicalRow]] = {
    m.table: m
    for m in (Participant, Screening, Lot, Infusion, Visit, Measurement, Medication, AdverseEvent)
}
