"""Registry under load: `celltrial serve` on SQLite (and on PostgreSQL when DATABASE_URL
names a server), a simulated 218-participant Chin 2025 study imported, then 50 concurrent
API users (threads with httpx on loopback) for a fixed time: 80 % reads (participant
lists and pages, visit lists), 20 % writes (new measurements, changes of them).

Prints p50/p95/p99 latency, requests per second and errors per database against the
issue's target (p95 < 100 ms, no errors). Run: python bench/registry_load.py [--seconds S]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np
import polars as pl
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "registry"))
from live import CELLTRIAL, _wait, free_port, fresh_postgres, run

USERS = 50  # the concurrent users
READ_SHARE = 0.8  # the mix: 80 % reads, 20 % writes
TARGET_P95_MS = 100.0  # the target
PASSWORD = secrets.token_urlsafe(16)


def setup(tmp: Path, env: dict) -> Path:
    study = tmp / "chin2025"
    run(["simulate", "--preset", "chin2025", "--seed", "1", "--out", str(study)], env)
    run(["registry", "import", str(study)], env)
    study_id = yaml.safe_load((study / "study.yaml").read_text())["study_id"]
    run(["user", "add", "bench", "--role", "admin", "--study", study_id], env, PASSWORD + "\n")
    return study


def user_loop(url: str, token: str, ids: dict, until: float, seed: int, out: list) -> None:
    rng = random.Random(seed)
    mine: list[dict] = []  # measurements this user created: id and version
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        n = 0
        while time.monotonic() < until:
            n += 1
            pid = rng.choice(ids["writable"])
            if rng.random() < READ_SHARE:
                kind = rng.choice(("list", "page", "visits"))
                if kind == "list":
                    call = ("GET", "/api/participants", {"params": {"limit": 50}})
                elif kind == "page":
                    call = ("GET", f"/api/participants/{rng.choice(ids['rows'])}", {})
                else:
                    call = ("GET", "/api/visits", {"params": {"participant_id": pid}})
                expected = (200,)
            elif mine and rng.random() < 0.5:
                kind, m = "change", rng.choice(mine)
                body = {
                    "version": m["version"],
                    "value": round(rng.uniform(5, 9), 1),
                    "reason": "bench: corrected",
                }
                call = ("PATCH", f"/api/measurements/{m['id']}", {"json": body})
                expected = (200,)
            else:
                kind = "create"
                body = {
                    "participant_id": pid,
                    "analyte": "fpg",
                    "unit": "mmol/L",
                    "value": round(rng.uniform(5, 9), 1),
                    "fasting": True,
                    "source": "smbg",
                    "time": f"2030-01-01T{seed % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}",
                }
                call = ("POST", "/api/measurements", {"json": body})
                expected = (201,)
            t0 = time.perf_counter()
            try:
                answer = client.request(call[0], call[1], **call[2])
                status = answer.status_code
            except httpx.HTTPError:
                status = -1
            ms = (time.perf_counter() - t0) * 1000
            out.append((kind, ms, status, status in expected))
            if kind == "create" and status == 201:
                mine.append({"id": answer.json()["id"], "version": 1})
            if kind == "change" and status == 200:
                m["version"] += 1


def drive(url: str, token: str, ids: dict, seconds: float) -> pl.DataFrame:
    until = time.monotonic() + seconds
    results: list[list] = [[] for _ in range(USERS)]
    threads = [
        threading.Thread(target=user_loop, args=(url, token, ids, until, i, results[i]))
        for i in range(USERS)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    frame = pl.DataFrame(
        [r for rs in results for r in rs], schema=["kind", "ms", "status", "ok"], orient="row"
    )
    return frame.with_columns(pl.lit(wall).alias("wall_s"))


def report(name: str, frame: pl.DataFrame) -> bool:
    ms = frame["ms"].to_numpy()
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    errors = frame.filter(~pl.col("ok"))
    rps = frame.height / frame["wall_s"][0]
    met = p95 < TARGET_P95_MS and errors.height == 0
    print(
        f"{name}: {frame.height} requests in {frame['wall_s'][0]:.1f} s, {rps:.1f} requests/s, "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, {errors.height} errors "
        f"(target p95 < {TARGET_P95_MS:.0f} ms, no errors: {'met' if met else 'NOT met'})"
    )
    by_kind = frame.group_by("kind").agg(
        pl.len().alias("n"),
        pl.col("ms").median().round(0).alias("p50_ms"),
        pl.col("ms").quantile(0.95).round(0).alias("p95_ms"),
        (~pl.col("ok")).sum().alias("errors"),
    )
    print(by_kind.sort("kind"))
    if errors.height:
        print(errors.group_by("kind", "status").len())
    return met


def one_database(name: str, env: dict, seconds: float) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**env, "CELLTRIAL_DATA_DIR": tmp}
        study = setup(Path(tmp), env)
        port = free_port()
        log = (Path(tmp) / "server.log").open("w")
        server = subprocess.Popen(
            [CELLTRIAL, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, server, Path(tmp))
            token = httpx.post(
                f"{url}/api/auth/token", json={"username": "bench", "password": PASSWORD}
            ).json()["token"]
            people = pl.read_csv(study / "participants.csv")
            writable = people.filter(pl.col("withdrawal_date").is_null())["participant_id"]
            rows = httpx.get(
                f"{url}/api/participants",
                params={"limit": 1000},
                headers={"Authorization": f"Bearer {token}"},
            ).json()["items"]
            ids = {"writable": writable.to_list(), "rows": [r["id"] for r in rows]}
            return report(name, drive(url, token, ids, seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--databases", default="sqlite,postgresql", help="which to measure")
    args = parser.parse_args()
    chosen = args.databases.split(",")
    hidden = ("DATABASE_URL", "CELLTRIAL_SECRET_KEY")
    base = {k: v for k, v in os.environ.items() if k not in hidden}
    met = one_database("sqlite", base, args.seconds) if "sqlite" in chosen else True
    url = os.environ.get("DATABASE_URL")
    if "postgresql" in chosen and url:
        with ExitStack() as stack:
            database = stack.enter_context(fresh_postgres(url))
            env = {**base, "DATABASE_URL": database}
            met = one_database("postgresql", env, args.seconds) and met
    elif "postgresql" in chosen:
        print("postgresql: skipped (set DATABASE_URL to a server to measure it)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
