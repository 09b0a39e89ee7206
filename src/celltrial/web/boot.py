"""Start Django for a data folder outside a server (the CLI): settings from the
environment, database created and migrated on first use."""

from __future__ import annotations

import os
from pathlib import Path

SETTINGS = "celltrial.web.settings"


def start(data_dir: Path, debug: bool = False, migrate: bool = True) -> None:
    """Point the settings at `data_dir`, set Django up and bring the database up to date."""
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["CELLTRIAL_DATA_DIR"] = str(data_dir.resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    if debug:
        os.environ["CELLTRIAL_DEBUG"] = "1"
    import django
    from django.core.management import call_command

    django.setup()
    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
