"""Against a running `celltrial serve`: the OpenAPI document, and concurrent writes from
threads (gunicorn workers are separate processes) that lose nothing."""

from __future__ import annotations

import threading

import httpx
import pytest


@pytest.fixture(scope="module")
def coord(registry_server, password):
    token = registry_server.token("coord1", password)
    return httpx.Client(base_url=registry_server.url, headers={"Authorization": f"Bearer {token}"})


def test_serve_answers_the_openapi_document(registry_server):
    answer = httpx.get(f"{registry_server.url}/api/openapi.json")
    assert answer.status_code == 200
    assert "/api/participants" in answer.json()["paths"]
    assert (registry_server.data_dir / "secret_key").stat().st_mode & 0o777 == 0o600


def together(*calls):
    """Run the calls at the same moment in threads; their answers in order."""
    start, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        start.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_two_concurrent_updates_lose_nothing(coord):
    rows = coord.get("/api/measurements", params={"participant_id": "P01", "analyte": "fcp"})
    row = rows.json()["items"][0]
    path = f"/api/measurements/{row['id']}"
    a = {"version": row["version"], "value": 1.31, "reason": "lab report A"}
    b = {"version": row["version"], "fasting": False, "reason": "nurse's note B"}
    first, second = together(lambda: coord.patch(path, json=a), lambda: coord.patch(path, json=b))
    codes = sorted([first.status_code, second.status_code])
    assert codes == [200, 409], (first.text, second.text)
    loser, body = (second, b) if first.status_code == 200 else (first, a)
    conflict = loser.json()
    assert conflict["version"] == row["version"] + 1 and conflict["changed"]
    # the loser re-reads and applies its change on the new version: both changes are kept
    again = coord.patch(path, json=body | {"version": conflict["version"]})
    assert again.status_code == 200, again.text
    final = coord.get(path).json()
    assert (final["value_as_entered"], final["fasting"]) == ("1.31", False)
    assert final["version"] == row["version"] + 2
    trail = coord.get(
        "/api/studies/small-study/audit", params={"table": "measurements", "record_id": row["id"]}
    ).json()["items"]
    assert {e["reason"] for e in trail if e["action"] == "update"} == {
        "lab report A",
        "nurse's note B",
    }


def test_concurrent_new_values_are_all_stored(coord):
    def post(i: int):
        body = {
            "participant_id": "P03",
            "analyte": "fpg",
            "value": 6.0 + i / 10,
            "unit": "mmol/L",
            "time": f"2026-02-{i + 1:02d}T08:00:00",
            "fasting": True,
            "source": "smbg",
        }
        return lambda: coord.post("/api/measurements", json=body)

    answers = together(*[post(i) for i in range(8)])
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    stored = coord.get(
        "/api/measurements", params={"participant_id": "P03", "analyte": "fpg", "limit": 1000}
    ).json()["items"]
    entered = {r["value_as_entered"] for r in stored if r["time"].startswith("2026-02")}
    assert entered == {str(6.0 + i / 10) for i in range(8)}
