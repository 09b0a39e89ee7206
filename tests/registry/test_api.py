"""The JSON API on the shipped small study (sites S01: P01-P03, S02: P04-P06)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from celltrial.registry.models import (
    AuditEntry,
    Consent,
    Infusion,
    Lot,
    Measurement,
    Participant,
    Visit,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def row_id(model, **match) -> int:
    return model.objects.get(deleted=False, **match).pk


def test_token_then_participants_of_my_site_only(small_study, api_as):
    api = api_as("ana", "coordinator", sites=("S01",))
    answer = api.get("/api/participants")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 3
    assert [p["participant_id"] for p in body["items"]] == ["P01", "P02", "P03"]
    assert (
        api.get("/api/participants", limit=2, offset=2).json()["items"][0]["participant_id"]
        == "P03"
    )


def test_no_token_is_401(small_study, client):
    assert client.get("/api/participants").status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/participants", headers=bad).status_code == 401


def test_repeated_failed_logins_lock_the_account(small_study, make_user, client, password):
    make_user("bob", "coordinator")

    def login(secret: str) -> int:
        body = json.dumps({"username": "bob", "password": secret})
        return client.post("/api/auth/token", body, "application/json").status_code

    assert [login("wrong") for _ in range(5)] == [401] * 5
    assert login(password) == 401  # locked: even the right password is refused for a while


def test_a_refused_password_is_not_echoed(small_study, make_user, client):
    body = {"username": "ana", "password": 12345678901234}  # a number, not text
    answer = client.post("/api/auth/token", json.dumps(body), "application/json")
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"field": "password", "message": "Input should be a valid string", "value": None}
    ]


def test_token_is_stored_hashed(small_study, api_as):
    from celltrial.registry.models import ApiToken

    api = api_as("ana", "coordinator")
    token = api.headers["Authorization"].split()[1]
    stored = ApiToken.objects.get()
    assert token not in stored.key_hash
    import hashlib

    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()


def other_site_paths() -> list[tuple[str, str, object, dict]]:
    """(method, path template, model, match) for a row of P04 (site S02)."""
    return [
        ("participants", Participant, {"participant_id": "P04"}),
        (
            "measurements",
            Measurement,
            {"participant_id": "P04", "analyte": "fpg", "visit_id": "d0"},
        ),
        ("infusions", Infusion, {"infusion_id": "P04-I1"}),
        ("visits", Visit, {"participant_id": "P04", "visit_id": "d14"}),
    ]


@pytest.mark.parametrize("table,model,match", other_site_paths())
def test_another_sites_row_is_404_for_every_verb(small_study, api_as, table, model, match):
    api = api_as("ana", "coordinator", sites=("S01",))
    pk = row_id(model, **match)
    path = f"/api/{table}/{pk}"
    assert api.get(path).status_code == 404
    assert api.patch(path, {"version": 1, "reason": "x"}).status_code == 404
    assert api.delete(path, version=1, reason="x").status_code == 404
    assert model.objects.get(pk=pk).version == 1  # nothing changed


@pytest.mark.parametrize(
    "path",
    ["/api/participants/{p}/eligibility", "/api/participants/{p}/schedule"],
)
def test_another_sites_participant_checks_are_404(small_study, api_as, path):
    api = api_as("ana", "coordinator", sites=("S01",))
    assert api.get(path.format(p=row_id(Participant, participant_id="P04"))).status_code == 404
    assert api.get(path.format(p=row_id(Participant, participant_id="P01"))).status_code == 200


def test_lists_and_writes_for_another_sites_participant(small_study, api_as):
    api = api_as("ana", "coordinator", sites=("S01",))
    for table in ("measurements", "screening", "medications", "adverse-events", "visits"):
        assert api.get(f"/api/{table}", participant_id="P04").json()["count"] == 0, table
    new = {
        "participant_id": "P04",
        "analyte": "fpg",
        "time": "2026-01-05T08:00:00",
        "value": 7.0,
        "unit": "mmol/L",
    }
    assert api.post("/api/measurements", new).status_code == 404
    assert (
        api.post(
            "/api/participants",
            {
                "participant_id": "P09",
                "site_id": "S02",
                "sex": "F",
                "enrollment_date": "2026-01-01",
            },
        ).status_code
        == 404
    )
    consent = Consent.objects.get(participant_id="P04")
    withdraw = {"version": 1, "withdrawal_date": "2026-01-01", "scope": "all", "reason": "x"}
    assert api.post(f"/api/consents/{consent.pk}/withdraw", withdraw).status_code == 404
    assert api.get("/api/consents", participant_id="P04").json()["count"] == 0
    query = {"participant_id": "P04", "table": "measurements", "text": "check"}
    assert api.post("/api/queries", query).status_code == 403  # coordinators do not open queries
    other = api.get("/api/studies/small-study/audit", participant_id="P04").json()
    assert other["count"] == 0


def new_fpg(pid: str = "P01", value: float = 162.0, unit: str = "mg/dL") -> dict:
    return {
        "participant_id": pid,
        "analyte": "fpg",
        "time": "2026-01-05T08:00:00",
        "value": value,
        "unit": unit,
        "fasting": True,
        "source": "lab",
    }


def test_a_measurement_is_converted_and_its_entry_kept(small_study, api_as):
    api = api_as("ana", "coordinator")
    answer = api.post("/api/measurements", new_fpg())
    assert answer.status_code == 201, answer.content
    row = answer.json()
    # glucose M = 180.16 g/mol: 162 mg/dL = 1620 mg/L / 180.16 g/mol = 8.992 mmol/L
    assert row["value"] == pytest.approx(1620 / 180.16, rel=1e-9)
    assert (row["unit"], row["value_as_entered"], row["unit_as_entered"]) == (
        "mmol/L",
        "162.0",
        "mg/dL",
    )
    assert row["visit_id"] is None  # years after the last window: unscheduled


def test_a_measurement_is_placed_in_its_protocol_window(small_study, api_as):
    api = api_as("ana", "coordinator")
    # P01's first infusion 2019-03-04 is day 0: 2019-05-26 is day 83, inside d84 +- 3
    body = new_fpg(value=6.1, unit="mmol/L") | {
        "time": "2019-05-26T08:00:00",
        "analyte": "ca199",
        "unit": "U/mL",
        "fasting": None,
    }
    answer = api.post("/api/measurements", body)
    assert answer.status_code == 201, answer.content
    assert answer.json()["visit_id"] == "d84"


def test_bad_input_is_answered_per_field(small_study, api_as):
    api = api_as("ana", "coordinator")
    before = Measurement.objects.count()
    unknown_unit = api.post("/api/measurements", new_fpg(unit="furlongs"))
    assert unknown_unit.status_code == 422
    # named as sent (unit), not as stored (unit_as_entered), with the value sent
    assert {"field": "unit", "value": "furlongs"} in [
        {k: d[k] for k in ("field", "value")} for d in unknown_unit.json()["detail"]
    ], unknown_unit.json()
    wrong_type = api.post("/api/measurements", new_fpg() | {"value": "lots"})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["detail"][0]["field"].startswith("value")
    assert wrong_type.json()["detail"][0]["value"] == "lots"
    extra = api.post("/api/measurements", new_fpg() | {"colour": "red"})
    assert extra.status_code == 422 and "colour" in extra.json()["detail"][0]["field"]
    impossible = api.post("/api/measurements", new_fpg(value=-5, unit="mmol/L"))
    assert impossible.status_code == 422
    zoned = api.post("/api/measurements", new_fpg() | {"time": "2026-01-05T08:00:00+02:00"})
    assert zoned.status_code == 422
    nul = api.post("/api/measurements", new_fpg() | {"source": "lab\x00"})
    assert nul.status_code == 422
    ae = {
        "participant_id": "P01",
        "ae_id": "AE900",
        "term": "Fever",
        "onset_time": "2026-01-05T10:00:00",
        "end_time": "2026-01-04T10:00:00",
        "grade": 1,
    }
    order = api.post("/api/adverse-events", ae)
    assert order.status_code == 422
    assert order.json()["detail"][0] == {
        "field": "end_time",
        "message": "adverse event ends before its onset",
        "value": "2026-01-04 10:00:00",
    }
    huge = api.post("/api/measurements", new_fpg() | {"source": "x" * 3_000_000})
    # DATA_UPLOAD_MAX_MEMORY_SIZE is 2,621,440 bytes (settings.py): answered as JSON
    assert huge.status_code == 400
    assert "over the limit of 2621440" in huge.json()["detail"]
    long_text = api.post("/api/measurements", new_fpg() | {"value": "9" * 1000})
    shown = long_text.json()["detail"][0]["value"]
    assert long_text.status_code == 422 and shown == "9" * 200 + "... (1000 characters)"
    assert Measurement.objects.count() == before  # nothing stored


def test_markup_and_sql_in_text_are_stored_as_text(small_study, api_as):
    api = api_as("ana", "coordinator")
    term = "<script>alert(1)</script>'; DROP TABLE registry_measurement; --"
    ae = {
        "participant_id": "P01",
        "ae_id": "AE901",
        "term": term,
        "onset_time": "2026-01-05T10:00:00",
        "grade": 1,
    }
    answer = api.post("/api/adverse-events", ae)
    assert answer.status_code == 201, answer.content
    assert answer.json()["term"] == term
    assert answer["Content-Type"] == "application/json; charset=utf-8"
    assert Measurement.objects.count() > 0


def test_stale_version_is_409_with_fields_changed_since(small_study, api_as):
    api = api_as("ana", "coordinator")
    pk = row_id(Measurement, participant_id="P01", analyte="fpg", visit_id="d14")
    first = api.patch(f"/api/measurements/{pk}", {"version": 1, "value": 6.6, "reason": "typo"})
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 2
    stale = api.patch(f"/api/measurements/{pk}", {"version": 1, "fasting": False, "reason": "x"})
    assert stale.status_code == 409
    body = stale.json()
    assert body["version"] == 2
    assert set(body["changed"]) >= {"value", "value_as_entered"}
    row = Measurement.objects.get(pk=pk)
    assert (row.value, row.fasting) == (6.6, True)  # the stale write changed nothing


def test_a_change_needs_a_reason(small_study, api_as):
    api = api_as("ana", "coordinator")
    pk = row_id(Measurement, participant_id="P01", analyte="fpg", visit_id="d14")
    answer = api.patch(f"/api/measurements/{pk}", {"version": 1, "value": 6.6, "reason": " "})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "reason"


def test_every_change_is_in_the_audit_trail(small_study, api_as):
    api = api_as("ana", "coordinator")
    created = api.post("/api/measurements", new_fpg()).json()
    path = f"/api/measurements/{created['id']}"
    api.patch(path, {"version": 1, "value": 170, "reason": "transcription error"})
    api.delete(path, version=2, reason="duplicate of the lab's value")
    trail = api.get(
        "/api/studies/small-study/audit", table="measurements", record_id=created["id"]
    ).json()["items"]
    assert [e["action"] for e in trail] == ["create", "update", "delete"]
    assert [e["version"] for e in trail] == [1, 2, 3]
    assert {e["username"] for e in trail} == {"ana"}
    assert trail[0]["before"] is None and trail[0]["after"]["value_as_entered"] == "162.0"
    assert trail[1]["before"]["value_as_entered"] == "162.0"
    assert trail[1]["after"]["value_as_entered"] == "170.0"
    assert trail[1]["after"]["value"] == pytest.approx(1700 / 180.16)
    assert trail[1]["reason"] == "transcription error"
    assert trail[2]["after"]["deleted"] is True and trail[2]["reason"].startswith("duplicate")
    # soft delete: the row is kept, flagged, and hidden from lists
    assert Measurement.objects.get(pk=created["id"]).deleted
    assert api.get(path).json()["deleted"] is True
    csv = api.get(
        "/api/studies/small-study/audit.csv", record_id=created["id"], table="measurements"
    )
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("id,at,username,action") and len(lines) == 4


def test_no_data_after_withdrawal_and_earlier_data_kept(small_study, api_as):
    api = api_as("ana", "coordinator")
    kept = Measurement.objects.filter(participant_id="P02", deleted=False).count()
    consent = api.get("/api/consents", participant_id="P02").json()["items"][0]
    withdraw = {
        "version": consent["version"],
        "withdrawal_date": TODAY.isoformat(),
        "scope": "all",
        "reason": "participant's wish",
    }
    assert api.post(f"/api/consents/{consent['id']}/withdraw", withdraw).status_code == 200
    refused = api.post("/api/measurements", new_fpg("P02"))
    assert refused.status_code == 422
    message = refused.json()["detail"][0]["message"]
    assert "consent of P02" in message and "withdrawn" in message
    assert Measurement.objects.filter(participant_id="P02", deleted=False).count() == kept


def test_no_data_before_consent(small_study, api_as):
    api = api_as("ana", "coordinator")
    person = {
        "participant_id": "P07",
        "site_id": "S01",
        "sex": "F",
        "enrollment_date": "2026-01-02",
        "birth_date": "1970-01-01",
    }
    assert api.post("/api/participants", person).status_code == 201
    refused = api.post("/api/measurements", new_fpg("P07"))
    assert refused.status_code == 422
    assert "no consent recorded for participant P07" in refused.json()["detail"][0]["message"]


def test_monitor_reads_and_opens_queries_but_does_not_enter_data(small_study, api_as):
    api = api_as("mo", "monitor", sites=("S01",))
    assert api.get("/api/measurements", participant_id="P01").json()["count"] > 0
    assert api.post("/api/measurements", new_fpg()).status_code == 403
    pk = row_id(Measurement, participant_id="P01", analyte="fpg", visit_id="d14")
    query = {
        "participant_id": "P01",
        "table": "measurements",
        "record_id": pk,
        "field": "value",
        "text": "please check against the lab report",
    }
    opened = api.post("/api/queries", query)
    assert opened.status_code == 201, opened.content
    assert opened.json()["status"] == "open"


def test_statistician_gets_only_deidentified_exports(small_study, api_as):
    api = api_as("st", "statistician", sites=())
    assert api.get("/api/participants").status_code == 403
    assert api.get("/api/studies/small-study/export").status_code == 403
    answer = api.get("/api/studies/small-study/export", deidentify="true")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/zip"
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert "participants.csv" in names
    text = zipfile.ZipFile(io.BytesIO(answer.content)).read("participants.csv").decode()
    assert "P01" not in text


def eligible_participant(api, pid: str = "P07") -> None:
    """A new participant of S01 with every Lian 2022 criterion answered or measured."""
    enrolled = TODAY - dt.timedelta(days=2)
    person = {
        "participant_id": pid,
        "site_id": "S01",
        "sex": "M",
        "birth_date": "1970-05-01",
        "enrollment_date": enrolled.isoformat(),
    }
    assert api.post("/api/participants", person).status_code == 201
    consent = {
        "participant_id": pid,
        "form_version": "v2.1",
        "date_signed": enrolled.isoformat(),
        "signed_by": "Dr. Lin",
    }
    assert api.post("/api/consents", consent).status_code == 201
    metformin = {
        "participant_id": pid,
        "drug": "metformin",
        "atc_code": "A10BA02",
        "daily_dose": 1500,
        "dose_unit": "mg",
        "start_date": "2015-01-01",
    }
    assert api.post("/api/medications", metformin).status_code == 201
    from celltrial.protocol import load_protocol

    for criterion in load_protocol("lian2022").eligibility:  # the protocol's own list
        if criterion.check == "checklist":
            answer = api.post(
                "/api/screening", {"participant_id": pid, "criterion_id": criterion.id, "met": True}
            )
            assert answer.status_code == 201, answer.content
    when = f"{enrolled.isoformat()}T08:00:00"
    for analyte, value, unit in (
        ("hba1c", 8.1, "%"),
        ("gad_ab", 1.0, "[IU]/mL"),
        ("sbp", 130, "mm[Hg]"),
        ("dbp", 80, "mm[Hg]"),
    ):
        body = {
            "participant_id": pid,
            "analyte": analyte,
            "time": when,
            "value": value,
            "unit": unit,
        }
        answer = api.post("/api/measurements", body)
        assert answer.status_code == 201, answer.content


def fresh_lot(api, lot_id: str = "L2601") -> None:
    lot = Lot.objects.get(lot_id="L1901")
    from celltrial.data.schema import TABLES

    values = {c.name: getattr(lot, c.name) for c in TABLES["lots"].columns}
    values |= {
        "lot_id": lot_id,
        "manufacture_date": (TODAY - dt.timedelta(days=30)).isoformat(),
        "expiry_date": (TODAY + dt.timedelta(days=150)).isoformat(),
    }
    answer = api.post("/api/lots", values)
    assert answer.status_code == 201, answer.content


def test_an_infusion_for_an_eligible_consented_participant(small_study, api_as):
    api = api_as("ad", "admin", sites=())
    eligible_participant(api)
    fresh_lot(api)
    pk = row_id(Participant, participant_id="P07")
    assert api.get(f"/api/participants/{pk}/eligibility").json()["eligible"] is True
    infusion = {
        "infusion_id": "P07-I1",
        "participant_id": "P07",
        "lot_id": "L2601",
        "start_time": f"{TODAY.isoformat()}T09:30:00",
        "weight_kg": 72.5,
    }
    answer = api.post("/api/infusions", infusion)
    assert answer.status_code == 201, answer.content
    row = answer.json()
    # Lian 2022: 1 x 10^6 cells/kg; 72.5 kg -> 72.5 million cells
    assert row["dose_cells"] == pytest.approx(72.5e6)
    assert row["dose_cells_per_kg"] == pytest.approx(1e6)
    assert row["infusion_number"] == 1
    # the first infusion anchors the schedule: every protocol visit is now planned
    planned = api.get("/api/visits", participant_id="P07").json()["items"]
    assert {v["visit_id"] for v in planned} >= {"d0", "d14", "d21", "d28", "d84"}
    too_much = infusion | {
        "infusion_id": "P07-I2",
        "dose_cells": 150e6,
        "start_time": f"{TODAY.isoformat()}T10:30:00",
    }
    refused = api.post("/api/infusions", too_much)
    assert refused.status_code == 422
    assert (
        "is not within 10.0 % of 1000000.0 cells/kg x 72.5 kg"
        in refused.json()["detail"][0]["message"]
    )


def test_an_infusion_for_a_participant_not_eligible_is_refused(small_study, api_as):
    api = api_as("ad", "admin", sites=())
    fresh_lot(api)
    person = {
        "participant_id": "P08",
        "site_id": "S01",
        "sex": "M",
        "birth_date": "1990-01-01",
        "enrollment_date": TODAY.isoformat(),
    }
    api.post("/api/participants", person)
    api.post(
        "/api/consents",
        {
            "participant_id": "P08",
            "form_version": "v2.1",
            "date_signed": TODAY.isoformat(),
            "signed_by": "Dr. Lin",
        },
    )
    infusion = {
        "infusion_id": "P08-I1",
        "participant_id": "P08",
        "lot_id": "L2601",
        "start_time": f"{TODAY.isoformat()}T09:30:00",
        "weight_kg": 70,
    }
    refused = api.post("/api/infusions", infusion)
    assert refused.status_code == 422
    messages = [d["message"] for d in refused.json()["detail"]]
    assert any(m.startswith("not eligible: criterion inc_hba1c") for m in messages), messages
    assert not Infusion.objects.filter(infusion_id="P08-I1").exists()


def test_an_expired_lot_is_refused(small_study, api_as):
    api = api_as("ad", "admin", sites=())
    eligible_participant(api)
    infusion = {
        "infusion_id": "P07-I1",
        "participant_id": "P07",
        "lot_id": "L1901",
        "start_time": f"{TODAY.isoformat()}T09:30:00",
        "weight_kg": 70,
    }
    refused = api.post("/api/infusions", infusion)
    assert refused.status_code == 422
    assert any("expir" in d["message"] for d in refused.json()["detail"]), refused.json()


def test_lot_release_result(small_study, api_as):
    api = api_as("ana", "coordinator")
    pk = row_id(Lot, lot_id="L1901")
    result = api.get(f"/api/lots/{pk}/release", on="2019-03-04").json()
    assert result == {"lot_id": "L1901", "released": True, "reasons": []}
    late = api.get(f"/api/lots/{pk}/release", on="2019-08-21").json()
    assert late["released"] is False and late["reasons"] == [
        "expired on 2019-08-20 (used 2019-08-21)"
    ]


def test_audit_entries_name_every_field(small_study, api_as):
    api = api_as("ana", "coordinator")
    api.post("/api/measurements", new_fpg())
    entry = AuditEntry.objects.filter(username="ana", table="measurements").get()
    from celltrial.data.schema import TABLES

    assert set(entry.after) == {c.name for c in TABLES["measurements"].columns}
    assert entry.at is not None and entry.user.username == "ana"
    # P01's first write since the import schedules lian2022's long-term follow-up (the
    # imported visits stop at d84): one audited creation per extension visit
    scheduled = AuditEntry.objects.filter(username="ana", table="visits", action="create")
    assert sorted(e.after["visit_id"] for e in scheduled) == ["m12", "m24", "m36", "m6"]


def test_a_deleted_lot_has_no_release_result(small_study, api_as):
    api = api_as("ad", "admin", sites=())
    pk = row_id(Lot, lot_id="L1902")
    assert api.delete(f"/api/lots/{pk}", version=1, reason="entered twice").status_code == 200
    assert api.get(f"/api/lots/{pk}/release").status_code == 404
    assert api.get(f"/api/lots/{pk}").json()["deleted"] is True  # kept, flagged


def test_a_key_stored_at_the_same_moment_is_refused_not_a_server_error(
    small_study, api_as, monkeypatch
):
    # what two PostgreSQL writers can do: both pass validate(), the unique key refuses one
    from celltrial.registry.services import writes

    monkeypatch.setattr(writes, "refuse_errors", lambda *args: None)
    api = api_as("ana", "coordinator")
    assert api.post("/api/measurements", new_fpg()).status_code == 201
    again = api.post("/api/measurements", new_fpg())
    assert again.status_code == 422
    assert again.json()["detail"][0]["message"].startswith("duplicate key: a measurements row")
    assert Measurement.objects.filter(participant_id="P01", time="2026-01-05T08:00:00").count() == 1


def test_only_admins_manage_users(small_study, api_as, password):
    coordinator = api_as("ana", "coordinator")
    member = {"username": "carl", "password": password, "role": "monitor", "sites": ["S02"]}
    assert coordinator.post("/api/studies/small-study/members", member).status_code == 403
    admin = api_as("ad", "admin", sites=())
    added = admin.post("/api/studies/small-study/members", member)
    assert added.status_code == 201
    assert added.json() == {"username": "carl", "role": "monitor", "sites": ["S02"]}
    unknown = admin.post("/api/studies/small-study/members", member | {"sites": ["S99"]})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "site"


def test_a_query_is_answered_by_the_site_and_closed_by_the_monitor(small_study, api_as):
    monitor = api_as("mo", "monitor", sites=("S01",))
    site = api_as("ana", "coordinator", sites=("S01",))
    opened = monitor.post(
        "/api/queries", {"participant_id": "P01", "table": "visits", "text": "date?"}
    ).json()
    path = f"/api/queries/{opened['id']}/status"
    assert (
        monitor.post(path, {"version": 1, "status": "answered", "answer": "x"}).status_code == 403
    )
    assert site.post(path, {"version": 1, "status": "closed"}).status_code == 403
    answered = site.post(path, {"version": 1, "status": "answered", "answer": "as in the chart"})
    assert answered.status_code == 200 and answered.json()["answer"] == "as in the chart"
    closed = monitor.post(path, {"version": 2, "status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    trail = monitor.get("/api/studies/small-study/audit", table="data_queries").json()["items"]
    assert [e["after"]["status"] for e in trail] == ["open", "answered", "closed"]


def test_answers_under_api_are_json_before_any_route_runs(small_study, api_as, client):
    api = api_as("ana", "coordinator")
    missing = api.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {
        "detail": "no such API path: /api/no-such-thing (the routes: /api/openapi.json)"
    }
    put = client.put("/api/participants", "{}", "application/json", headers=api.headers)
    assert put.status_code == 405 and set(put["Allow"].split(", ")) == {"GET", "POST"}
    assert put.json() == {"detail": f"PUT is not allowed here; allowed: {put['Allow']}"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and not page["Content-Type"].startswith("application/json")
