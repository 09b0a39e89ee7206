# ruff: noqa: RUF012 (Django writes migrations with list class attributes)
"""An index on (study, participant) for each table with a participant: the registry pages
read one participant's rows of each table (participant page, eligibility), which without
it scan the whole study (bench/pages_load.py: participant page p50 1.2 s at 2,000
participants). Raw SQL, valid on SQLite and PostgreSQL, so the models (issue 11's) are
untouched; to move into their Meta.indexes when the two branches meet."""

from django.db import migrations

TABLES = ("screening", "infusion", "visit", "measurement", "medication", "adverseevent")


def _create(table: str) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS registry_{table}_participant "
        f"ON registry_{table} (study_id, participant_id)"
    )


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_alerts_signatures")]

    operations = [
        migrations.RunSQL(_create(t), f"DROP INDEX IF EXISTS registry_{t}_participant")
        for t in TABLES
    ]
