"""A registry study written as a StudyData folder that `celltrial validate` and
`celltrial analyze` take as they are (or de-identified, for statisticians)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from celltrial.data import write_study
from celltrial.registry.models import Study
from celltrial.registry.services.deidentify import deidentify
from celltrial.registry.services.frames import study_data


def export_study(study: Study, out: Path, deidentified: bool = False) -> Path:
    data = study_data(study)
    if deidentified:
        data = deidentify(data, study.deid_secret)
        meta = data.meta
        data = data.__class__(
            replace(meta, study_id=f"{meta.study_id}-deidentified"),
            **data.tables(),
        )
    path = write_study(data, out)
    if study.protocol_yaml and study.protocol:
        (Path(path) / study.protocol).write_text(study.protocol_yaml)
    return Path(path)
