"""One registry write in process: the time of a new measurement and of a change of one, as
the API makes them (celltrial.registry.services.writes), and of the check inside them. The
check validates the participant's rows for the written table only, `validate(study,
[table])`; the baseline is the whole `validate(study)` that each write ran before, on the
same rows.

A simulated chin2025 study is imported into a temporary SQLite data folder by the CLI,
then --writes new measurements and as many changes are written, one participant after
another. Polars runs on the engine the server sets (in memory, celltrial/web/wsgi.py)
unless --engine says otherwise.

    uv run --frozen python bench/registry_write.py [--writes 40] [--engine streaming]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import yaml

import registry_load  # the same study and user as the load benchmark


def setup(tmp: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    study = registry_load.setup(tmp, {**env, "CELLTRIAL_DATA_DIR": str(tmp)})
    return yaml.safe_load((study / "study.yaml").read_text())["study_id"]


def timed(call) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = call()
    return (time.perf_counter() - t0) * 1000, out


def writes(study_id: str, n: int, first: int = 0) -> tuple[list[float], list[float], list[str]]:
    from django.contrib.auth import get_user_model

    from celltrial.registry.models import CLINICAL_MODELS, Membership
    from celltrial.registry.services.writes import create_row, update_row

    user = get_user_model().objects.get(username="bench")
    member = Membership.objects.get(user=user, study__study_id=study_id)
    people = CLINICAL_MODELS["participants"].objects.filter(
        study=member.study, withdrawal_date__isnull=True
    )
    ids = list(people.order_by("participant_id").values_list("participant_id", flat=True))
    created, changed = [], []
    for i in range(first, first + n):
        values = {
            "participant_id": ids[i % len(ids)],
            "analyte": "fpg",
            "unit": "mmol/L",
            "value": 6.0 + i % 10 / 10,
            "fasting": True,
            "source": "smbg",
            "time": dt.datetime(2031, 1, 1) + dt.timedelta(hours=i),
        }
        ms, row = timed(lambda v=values: create_row(user, member, "measurements", v))
        created.append(ms)
        change = {"value": 7.5}
        ms, _ = timed(
            lambda r=row, c=change: update_row(user, member, "measurements", r.pk, 1, c, "bench")
        )
        changed.append(ms)
    return created, changed, ids[first : first + min(n, len(ids))]


def checks(study_id: str, ids: list[str]) -> tuple[list[float], list[float]]:
    from celltrial.data import validate
    from celltrial.registry.models import Study
    from celltrial.registry.services.frames import study_data

    study = Study.objects.get(study_id=study_id)
    scoped, whole = [], []
    for pid in ids:
        rows = study_data(study, [pid])
        scoped.append(timed(lambda r=rows: validate(dataclasses.replace(r), ["measurements"]))[0])
        whole.append(timed(lambda r=rows: validate(dataclasses.replace(r)))[0])
    return scoped, whole


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--engine", default="in-memory", choices=["in-memory", "streaming"])
    args = parser.parse_args()
    pl.Config.set_engine_affinity(args.engine)
    with tempfile.TemporaryDirectory() as tmp:
        study_id = setup(Path(tmp))
        from celltrial.web.boot import start

        start(Path(tmp), migrate=False)
        writes(study_id, 5, first=10_000)  # imports and caches; hours apart from those measured
        created, changed, ids = writes(study_id, args.writes)
        scoped, whole = checks(study_id, ids)
    med = statistics.median
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; engine {args.engine}")
    print(f"new measurement: median {med(created):.1f} ms over {len(created)} writes")
    print(f"change of one: median {med(changed):.1f} ms over {len(changed)} writes")
    print(
        f"check of a participant's rows: validate(study, ['measurements']) {med(scoped):.1f} ms, "
        f"whole validate(study) (baseline) {med(whole):.1f} ms: {med(whole) / med(scoped):.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
