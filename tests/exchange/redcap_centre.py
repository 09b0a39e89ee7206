"""A small REDCap project written by hand as a centre's looks (files in centre/): numeric
sex codes, a data access group per site, dates shown D-M-Y, a wide lab form with units in
the labels and a unit field, a repeating adverse-event form with a checkbox, a missing-data
code; records.csv raw and records_labels.csv as REDCap's "CSV (labels)" export."""

from __future__ import annotations

import shutil
from pathlib import Path

CENTRE = Path(__file__).parent / "centre"


def write_project(folder: Path, records: str = "records.csv") -> dict[str, Path]:
    """A copy of the project in `folder` (tests edit their copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "dictionary": folder / "dictionary.csv",
        "records": folder / "records.csv",
        "events": folder / "events.csv",
        "mapping": folder / "mapping.yaml",
    }
    for key, target in files.items():
        source = CENTRE / (records if key == "records" else target.name)
        shutil.copyfile(source, target)
    return files
