"""Registry under load: `celltrial serve` on SQLite (and on PostgreSQL when DATABASE_URL
names a server), a simulated 218-participant Chin 2025 study imported, then 50 concurrent
API users on loopback for a fixed time: 80 % reads (participant lists and pages, visit
lists), 20 % writes (new measurements, changes of them).

Two user models, each printed with p50/p95/p99 latency, requests per second and errors per
database:
- people: each user waits a think time of 1 to 5 s (uniform) after each answer, locust's
  `wait_time = between(1, 5)` (docs, "Writing a locustfile"): a person reads a page or types
  a value between two requests. The issue's target (p95 < 100 ms, no errors) is judged here.
- saturation: no think time, every user sends its next request as soon as the last is
  answered: the most the server answers per second, and the latency of a queue that never
  empties (Little's law: latency = users / throughput), printed as a capacity figure.
The users are asyncio tasks with httpx's async client in this process, away from the server's
gunicorn processes (one per core by default). Run: python bench/registry_load.py
[--seconds S] [--saturation-seconds S] [--workers N] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np
import polars as pl
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "registry"))
from live import CELLTRIAL, free_port, fresh_postgres, run, wait_until_up

USERS = 50  # the concurrent users
READ_SHARE = 0.8  # the mix: 80 % reads, 20 % writes
TARGET_P95_MS = 100.0  # the target
THINK_S = (1.0, 5.0)  # locust docs' example user: wait_time = between(1, 5)
WARMUP = 20  # requests of each kind before measuring: each worker's first imports and caches
PASSWORD = secrets.token_urlsafe(16)


def setup(tmp: Path, env: dict) -> Path:
    study = tmp / "chin2025"
    run(["simulate", "--preset", "chin2025", "--seed", "1", "--out", str(study)], env)
    run(["registry", "import", str(study)], env)
    study_id = yaml.safe_load((study / "study.yaml").read_text())["study_id"]
    run(["user", "add", "bench", "--role", "admin", "--study", study_id], env, PASSWORD + "\n")
    return study


def next_call(rng: random.Random, ids: dict, mine: list[dict], user: int, n: int, phase: int):
    """One request of the 80/20 mix: (kind, method, path, httpx arguments, expected)."""
    pid = rng.choice(ids["writable"])
    if rng.random() < READ_SHARE:
        kind = rng.choice(("list", "page", "visits"))
        if kind == "list":
            return kind, "GET", "/api/participants", {"params": {"limit": 50}}, 200
        if kind == "page":
            return kind, "GET", f"/api/participants/{rng.choice(ids['rows'])}", {}, 200
        return kind, "GET", "/api/visits", {"params": {"participant_id": pid}}, 200
    if mine and rng.random() < 0.5:
        m = rng.choice(mine)
        body = {"version": m["version"], "value": round(rng.uniform(5, 9), 1), "reason": "bench"}
        return "change", "PATCH", f"/api/measurements/{m['id']}", {"json": body, "m": m}, 200
    body = {
        "participant_id": pid,
        "analyte": "fpg",
        "unit": "mmol/L",
        "value": round(rng.uniform(5, 9), 1),
        "fasting": True,
        "source": "smbg",
        # a time no other user, phase or request of this user takes: no duplicate key
        "time": f"2030-{1 + 3 * phase + user // 24:02d}-{1 + n // 3600 % 28:02d}T{user % 24:02d}:"
        f"{n // 60 % 60:02d}:{n % 60:02d}",
    }
    return "create", "POST", "/api/measurements", {"json": body}, 201


def keep_versions(kind: str, answer: httpx.Response, mine: list[dict], m: dict | None) -> None:
    """After an accepted write: a new measurement joins the user's own, a change moves the
    changed one's version on (the next change must name it)."""
    if kind == "create":
        mine.append({"id": answer.json()["id"], "version": 1})
    if kind == "change":
        m["version"] += 1


async def user_loop(
    client: httpx.AsyncClient, ids: dict, until: float, user: int, think: tuple, out: list
) -> None:
    phase = 0 if think[1] > 0 else 1  # people, then saturation: their writes never collide
    rng = random.Random(user + 1000 * phase)
    mine: list[dict] = []  # measurements this user created: id and version
    await asyncio.sleep(rng.uniform(0, think[1]))  # users arrive spread over one think time
    n = 0
    while time.monotonic() < until:
        n += 1
        kind, method, path, args, expected = next_call(rng, ids, mine, user, n, phase)
        m = args.pop("m", None)
        t0 = time.perf_counter()
        try:
            answer = await client.request(method, path, **args)
            status = answer.status_code
        except httpx.HTTPError:
            status = -1
        ms = (time.perf_counter() - t0) * 1000
        out.append((kind, ms, status, status == expected))
        if status == expected:
            keep_versions(kind, answer, mine, m)
        if think[1] > 0:
            await asyncio.sleep(rng.uniform(*think))


async def drive_async(url: str, token: str, ids: dict, seconds: float, think: tuple) -> list:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=USERS, max_keepalive_connections=USERS)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=limits
    ) as client:
        until = time.monotonic() + seconds
        results: list[list] = [[] for _ in range(USERS)]
        t0 = time.perf_counter()
        await asyncio.gather(
            *(user_loop(client, ids, until, i, think, results[i]) for i in range(USERS))
        )
        return [r for rs in results for r in rs], time.perf_counter() - t0


def drive(url: str, token: str, ids: dict, seconds: float, think: tuple) -> pl.DataFrame:
    rows, wall = asyncio.run(drive_async(url, token, ids, seconds, think))
    frame = pl.DataFrame(rows, schema=["kind", "ms", "status", "ok"], orient="row")
    return frame.with_columns(pl.lit(wall).alias("wall_s"))


def warm_up(url: str, token: str, ids: dict) -> None:
    """Each kind of request a few times, not measured: the workers' first requests import
    modules and parse the protocol once."""
    rng, mine = random.Random(-1), []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for n in range(WARMUP * 5):
            kind, method, path, args, expected = next_call(rng, ids, mine, 0, n, 2)
            m = args.pop("m", None)
            answer = client.request(method, path, **args)
            if answer.status_code != expected:
                raise RuntimeError(f"warm-up {kind}: {answer.status_code} {answer.text}")
            keep_versions(kind, answer, mine, m)


def report(database: str, model: str, frame: pl.DataFrame, judged: bool) -> bool:
    ms = frame["ms"].to_numpy()
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    errors = frame.filter(~pl.col("ok"))
    rps = frame.height / frame["wall_s"][0]
    met = p95 < TARGET_P95_MS and errors.height == 0
    verdict = (
        f"target p95 < {TARGET_P95_MS:.0f} ms and no errors, for people: "
        f"{'met' if met else 'NOT met'}"
        if judged
        else "capacity, not judged against the target"
    )
    print(
        f"{database}, {model}: {frame.height} requests in {frame['wall_s'][0]:.1f} s, "
        f"{rps:.1f} requests/s, p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, "
        f"{errors.height} errors ({verdict})"
    )
    by_kind = frame.group_by("kind").agg(
        pl.len().alias("n"),
        pl.col("ms").median().round(1).alias("p50_ms"),
        pl.col("ms").quantile(0.95).round(1).alias("p95_ms"),
        (~pl.col("ok")).sum().alias("errors"),
    )
    print(by_kind.sort("kind"))
    if errors.height:
        print(errors.group_by("kind", "status").len())
    return met or not judged


def one_database(name: str, env: dict, args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**env, "CELLTRIAL_DATA_DIR": tmp}
        study = setup(Path(tmp), env)
        port = free_port()
        log = (Path(tmp) / "server.log").open("w")
        serve = [CELLTRIAL, "serve", "--port", str(port), "--workers", str(args.workers)]
        server = subprocess.Popen(serve, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, server, Path(tmp), try_timeout=30)
            token = httpx.post(
                f"{url}/api/auth/token",
                json={"username": "bench", "password": PASSWORD},
                timeout=60,  # PBKDF2 by design slow, slower on a loaded machine
            ).json()["token"]
            people = pl.read_csv(study / "participants.csv")
            writable = people.filter(pl.col("withdrawal_date").is_null())["participant_id"]
            rows = httpx.get(
                f"{url}/api/participants",
                params={"limit": 1000},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            ).json()["items"]
            ids = {"writable": writable.to_list(), "rows": [r["id"] for r in rows]}
            warm_up(url, token, ids)
            people_model = f"people ({USERS} users, think {THINK_S[0]:.0f}-{THINK_S[1]:.0f} s)"
            frame = drive(url, token, ids, args.seconds, THINK_S)
            met = report(name, people_model, frame, judged=True)
            if args.saturation_seconds > 0:
                frame = drive(url, token, ids, args.saturation_seconds, (0.0, 0.0))
                report(name, f"saturation ({USERS} users, no think time)", frame, judged=False)
            return met
        except Exception:
            print((Path(tmp) / "server.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:  # gunicorn's graceful stop, on a loaded machine
                server.kill()
                server.wait()
            log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="people model's time")
    parser.add_argument("--saturation-seconds", type=float, default=20.0, help="0: skip it")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn's")
    parser.add_argument("--databases", default="sqlite,postgresql", help="which to measure")
    args = parser.parse_args()
    chosen = args.databases.split(",")
    hidden = ("DATABASE_URL", "CELLTRIAL_SECRET_KEY")
    base = {k: v for k, v in os.environ.items() if k not in hidden}
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    met = one_database("sqlite", base, args) if "sqlite" in chosen else True
    url = os.environ.get("DATABASE_URL")
    if "postgresql" in chosen and url:
        with ExitStack() as stack:
            database = stack.enter_context(fresh_postgres(url))
            env = {**base, "DATABASE_URL": database}
            met = one_database("postgresql", env, args) and met
    elif "postgresql" in chosen:
        print("postgresql: skipped (set DATABASE_URL to a server to measure it)")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
