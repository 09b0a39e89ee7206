"""`celltrial serve --demo`: a simulated lian2022 study at two sites and a demo user of
every role, so a new user can click through at once. The passwords are new on every start
(random, printed), never fixed in the code."""

from __future__ import annotations

import datetime as dt
import secrets

from celltrial.data.study import StudyData, StudyMeta
from celltrial.registry.models import Study
from celltrial.registry.services.importing import store_study
from celltrial.registry.services.users import add_user
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials

STUDY_ID = "lian2022-demo"
SITES = ["SZ01", "SZ02"]
PATIENTS = 40  # twenty per site: lists and plots to look at, quick to simulate
# enrolment (180 days in the preset) started seven months ago: the last participants are
# mid-schedule, so visits are due, overdue and done; data after today are dropped
START_DAYS_AGO = 210
SEED = 2022
USERS = (
    ("demo-admin", "admin", SITES),
    ("demo-investigator", "investigator", ["SZ01"]),
    ("demo-investigator2", "investigator", ["SZ02"]),
    ("demo-coordinator", "coordinator", ["SZ01"]),
    ("demo-coordinator2", "coordinator", ["SZ02"]),
    ("demo-monitor", "monitor", SITES),
    ("demo-statistician", "statistician", []),
)


def demo_study() -> StudyData:
    preset = load_preset("lian2022")
    start = dt.date.today() - dt.timedelta(days=START_DAYS_AGO)
    preset = preset.model_copy(update={"sites": SITES, "start_date": start.isoformat()})
    study = build_study(simulate_trials(preset, 1, PATIENTS, SEED), 0, SEED)
    meta = study.meta
    title = "Demo: simulated Lian 2022 trial at two sites"
    return StudyData(
        StudyMeta(STUDY_ID, meta.protocol, meta.format_version, title), **study.tables()
    )


def create_demo() -> list[tuple[str, str, str]]:
    """The demo study (once) and its users with new passwords: (username, role, password)."""
    from django.contrib.auth import get_user_model

    if not Study.objects.filter(study_id=STUDY_ID).exists():
        store_study(demo_study())
    logins = []
    for name, role, sites in USERS:  # the seven demo users
        password = secrets.token_urlsafe(12)
        add_user(name, password, role, STUDY_ID, sites)
        user = get_user_model().objects.get(username=name)
        user.set_password(password)
        user.email = f"{name}@localhost"
        user.save()
        logins.append((name, role, password))
    return logins
