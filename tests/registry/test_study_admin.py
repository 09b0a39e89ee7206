"""Admins create studies (a shipped protocol or an uploaded YAML checked by the protocol
loader), add sites and manage members; every change is in the audit trail."""

from __future__ import annotations

import pytest

from celltrial.protocol import load_protocol
from celltrial.protocol.loader import resolve
from celltrial.registry.models import AuditEntry, Membership, Site, Study
from celltrial.registry.services.protocols import study_protocol

pytestmark = pytest.mark.django_db
NEW = {
    "study_id": "lian2022-site3",
    "title": "Lian 2022 protocol, third site",
    "protocol": "lian2022",
    "sites": [{"site_id": "S10", "name": "Kuala Lumpur"}, {"site_id": "S11"}],
}


def trail(table: str) -> list[tuple[str, dict | None, dict | None]]:
    rows = AuditEntry.objects.filter(table=table).order_by("id")
    return [(e.action, e.before, e.after) for e in rows]


def test_an_admin_creates_a_study_with_sites_and_becomes_its_admin(small_study, api_as):
    admin = api_as("ad", "admin", sites=())
    answer = admin.post("/api/studies", NEW)
    assert answer.status_code == 201, answer.content
    assert answer.json() == {
        "study_id": "lian2022-site3",
        "title": "Lian 2022 protocol, third site",
        "protocol": "lian2022",
        "role": "admin",
        "sites": ["S10", "S11"],
    }
    study = Study.objects.get(study_id="lian2022-site3")
    assert study_protocol(study) == load_protocol("lian2022")
    assert (
        len(study.deid_secret) == 64
        and study.deid_secret != Study.objects.get(study_id="small-study").deid_secret
    )
    assert [s["study_id"] for s in admin.get("/api/studies").json()] == [
        "small-study",
        "lian2022-site3",
    ]
    assert trail("studies") == [
        (
            "create",
            None,
            {
                "study_id": "lian2022-site3",
                "title": "Lian 2022 protocol, third site",
                "protocol": "lian2022",
            },
        )
    ]
    assert [after for _, _, after in trail("sites")] == [
        {"site_id": "S10", "name": "Kuala Lumpur"},
        {"site_id": "S11", "name": None},
    ]
    creator = AuditEntry.objects.filter(table="memberships", study=study).get()
    assert creator.username == "ad" and creator.after == {
        "username": "ad",
        "role": "admin",
        "sites": [],
    }


def test_an_uploaded_protocol_is_kept_with_the_study(small_study, api_as, tmp_path):
    admin = api_as("ad", "admin", sites=())
    _, text = resolve("zang2022")
    body = NEW | {"protocol": None, "protocol_yaml": text}
    answer = admin.post("/api/studies", body)
    assert answer.status_code == 201, answer.content
    assert answer.json()["protocol"] == "protocol.yaml"
    study = Study.objects.get(study_id="lian2022-site3")
    assert study_protocol(study) == load_protocol("zang2022")
    from celltrial.registry.services.exporting import export_study

    folder = export_study(study, tmp_path / "out")
    assert (folder / "protocol.yaml").read_text() == text  # the export names it beside


def test_a_broken_protocol_is_refused_with_its_line(small_study, api_as):
    admin = api_as("ad", "admin", sites=())
    _, text = resolve("zang2022")
    lines = text.splitlines()
    # an unknown analyte somewhere in the file: the loader names the line and key
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("analyte:"))
    lines[at] = lines[at].split("analyte:")[0] + "analyte: unobtainium"
    answer = admin.post("/api/studies", NEW | {"protocol": None, "protocol_yaml": "\n".join(lines)})
    assert answer.status_code == 422
    problem = answer.json()["detail"][0]
    assert problem["field"] == "protocol_yaml"
    assert problem["message"].startswith(f"protocol.yaml:{at + 1}:")
    assert "unknown analyte 'unobtainium'" in problem["message"]
    assert not Study.objects.filter(study_id="lian2022-site3").exists()


@pytest.mark.parametrize(
    "change,field,words",
    [
        ({"protocol": "lian2023"}, "protocol", "shipped: chin2025, lian2022, zang2022"),
        ({"protocol_yaml": "id: x\n"}, "protocol", "not both"),
        ({"study_id": "../etc"}, "study_id", "letters, digits"),
        ({"study_id": "small-study"}, "study_id", "already in the registry"),
        ({"sites": [{"site_id": "S1"}, {"site_id": "S1"}]}, "site_id", "already in the study"),
        ({"sites": [{"site_id": " "}]}, "site_id", "cannot be empty"),
        (
            {"protocol": None, "protocol_yaml": "a: &x [1, 1]\nb: [*x, *x]\n"},
            "protocol_yaml",
            "aliases",
        ),
        ({"protocol": None, "protocol_yaml": "a: " + "[" * 30 + "]" * 30}, "protocol_yaml", "20"),
        (
            {"protocol": None, "protocol_yaml": "a: !!python/object:os.system x\n"},
            "protocol_yaml",
            "protocol.yaml:1: YAML value: could not determine a constructor for the tag",
        ),
        (
            {"protocol": None, "protocol_yaml": "a: 2020-13-45\n"},
            "protocol_yaml",
            "month must be in 1..12",
        ),
    ],
)
def test_a_bad_study_is_refused_per_field_and_nothing_stored(
    small_study, api_as, change, field, words
):
    admin = api_as("ad", "admin", sites=())
    answer = admin.post("/api/studies", NEW | change)
    assert answer.status_code == 422, answer.content
    problem = answer.json()["detail"][0]
    assert problem["field"] == field and words in problem["message"], problem
    assert Study.objects.count() == 1 and Site.objects.count() == 2
    assert not AuditEntry.objects.filter(table__in=("studies", "sites")).exists()


@pytest.mark.parametrize("role", ["coordinator", "investigator", "monitor", "statistician"])
def test_only_admins_create_studies(small_study, api_as, role):
    api = api_as("who", role, sites=())
    answer = api.post("/api/studies", NEW)
    assert answer.status_code == 403
    assert answer.json()["detail"] == "only an admin (of any study) may create a study"
    assert Study.objects.count() == 1


def test_an_admin_adds_a_site(small_study, api_as):
    admin = api_as("ad", "admin", sites=())
    added = admin.post("/api/studies/small-study/sites", {"site_id": "S03", "name": "Ipoh"})
    assert added.status_code == 201 and added.json() == {"site_id": "S03", "name": "Ipoh"}
    again = admin.post("/api/studies/small-study/sites", {"site_id": "S03"})
    assert again.status_code == 422 and again.json()["detail"][0]["field"] == "site_id"
    sites = admin.get("/api/studies/small-study/sites").json()
    assert [s["site_id"] for s in sites] == ["S01", "S02", "S03"]
    coordinator = api_as("ana", "coordinator")
    assert coordinator.post("/api/studies/small-study/sites", {"site_id": "S04"}).status_code == 403
    assert admin.post("/api/studies/other/sites", {"site_id": "S04"}).status_code == 404
    assert [a["site_id"] for _, _, a in trail("sites")] == ["S03"]


def test_an_admin_manages_members_and_every_change_is_audited(small_study, api_as, password):
    admin = api_as("ad", "admin", sites=())
    api_as("ana", "coordinator", sites=("S01",))
    moved = admin.post(
        "/api/studies/small-study/members",
        {"username": "ana", "role": "investigator", "sites": ["S01", "S02"]},
    )
    assert moved.status_code == 201, moved.content  # an existing user needs no password
    assert moved.json() == {"username": "ana", "role": "investigator", "sites": ["S01", "S02"]}
    listed = admin.get("/api/studies/small-study/members").json()
    assert listed == [
        {"username": "ad", "role": "admin", "sites": []},
        {"username": "ana", "role": "investigator", "sites": ["S01", "S02"]},
    ]
    new = admin.post("/api/studies/small-study/members", {"username": "newbie", "role": "monitor"})
    assert new.status_code == 422 and new.json()["detail"][0] == {
        "field": "password",
        "message": "a new user needs a password",
        "value": None,
    }
    removed = admin.delete("/api/studies/small-study/members/ana")
    assert removed.status_code == 200
    assert not Membership.objects.filter(user__username="ana").exists()
    assert admin.delete("/api/studies/small-study/members/ana").status_code == 404
    ana = [
        (a, b, c)
        for a, b, c in trail("memberships")
        if (c or b)["username"] == "ana" and a != "create"
    ]
    assert ana == [
        (
            "update",
            {"username": "ana", "role": "coordinator", "sites": ["S01"]},
            {"username": "ana", "role": "investigator", "sites": ["S01", "S02"]},
        ),
        ("delete", {"username": "ana", "role": "investigator", "sites": ["S01", "S02"]}, None),
    ]
    entry = AuditEntry.objects.filter(table="memberships", action="delete").get()
    assert entry.username == "ad"


def test_the_only_admin_stays(small_study, api_as):
    admin = api_as("ad", "admin", sites=())
    leave = admin.delete("/api/studies/small-study/members/ad")
    assert leave.status_code == 422 and "only admin" in leave.json()["detail"][0]["message"]
    demote = admin.post("/api/studies/small-study/members", {"username": "ad", "role": "monitor"})
    assert demote.status_code == 422
    assert Membership.objects.get(user__username="ad").role == "admin"


@pytest.mark.parametrize("role", ["coordinator", "monitor", "statistician"])
def test_only_admins_list_and_remove_members(small_study, api_as, role):
    api = api_as("who", role, sites=("S01",))
    api_as("ad", "admin", sites=())
    assert api.get("/api/studies/small-study/members").status_code == 403
    assert api.delete("/api/studies/small-study/members/ad").status_code == 403
    assert Membership.objects.filter(user__username="ad").exists()


def test_membership_changes_are_in_the_audit_trail_for_admins_only(small_study, api_as, password):
    admin = api_as("ad", "admin", sites=())
    monitor = api_as("mo", "monitor", sites=("S01",))
    carl = {"username": "carl", "password": password, "role": "monitor", "sites": ["S01"]}
    assert admin.post("/api/studies/small-study/members", carl).status_code == 201

    def tables(api) -> set[str]:
        items = api.get("/api/studies/small-study/audit", limit=1000).json()["items"]
        return {e["table"] for e in items}

    assert "memberships" in tables(admin)
    assert "memberships" not in tables(monitor)
    csv = monitor.get("/api/studies/small-study/audit.csv").content.decode()
    assert ",memberships," not in csv
