"""Registry pages under load (issue 12): the study dashboard and participant pages of a
simulated 2,000-participant lian2022 study, served by `celltrial serve` (gunicorn) on
SQLite, requested by 20 concurrent logged-in users for a fixed time. Prints p50/p95/p99
latency per page, requests per second and errors, for two readings of "20 concurrent users":

- back to back (think 0): each user sends its next request the moment the last answer
  arrives, a stress test (20 requests always in flight on a 2-core machine);
- people-like (think 1): each user reads a page for 0-2 s (mean 1 s) between clicks.

Target (issue 12): p95 under 200 ms. It applies to the people-like reading, twenty people
using the registry at once; the back-to-back reading is printed beside it and says how
far the server is from saturation.

    python bench/pages_load.py [--n 2000] [--users 20] [--seconds 30] [--think 0,1]

The users are asyncio tasks in one process (httpx.AsyncClient), not threads: twenty
client threads share one GIL with each other, which inflated the measured latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

TARGET_P95_MS = 200.0  # issue 12
PASSWORD = "bench-only-passphrase-2000"
CLI = str(Path(sys.executable).with_name("celltrial"))  # the environment's own command


def build(data_dir: Path, n: int) -> list[str]:
    """The simulated study in the data folder and an admin user (every site)."""
    from celltrial.web.boot import start

    start(data_dir)
    from celltrial.data.study import StudyData, StudyMeta
    from celltrial.registry.services.importing import store_study
    from celltrial.registry.services.users import add_user
    from celltrial.simulate.preset import load_preset
    from celltrial.simulate.study import build_study
    from celltrial.simulate.virtual_trials import simulate_trials

    preset = load_preset("lian2022").model_copy(update={"sites": ["SZ01", "SZ02"]})
    study = build_study(simulate_trials(preset, 1, n, 7), 0, 7)
    m = study.meta
    store_study(
        StudyData(StudyMeta("bench", m.protocol, m.format_version, m.title), **study.tables())
    )
    add_user("bench-admin", PASSWORD, "admin", "bench", ["SZ01", "SZ02"])
    return study.participants["participant_id"].to_list()


def stored_ids(data_dir: Path) -> list[str]:
    """The participant ids of a study an earlier run built in this data folder."""
    from celltrial.web.boot import start

    start(data_dir)
    from celltrial.registry.models import Participant

    rows = Participant.objects.filter(study__study_id="bench", deleted=False)
    return list(rows.order_by("id").values_list("participant_id", flat=True))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def logged_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    form = client.get("/login/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    answer = client.post("/login/", data={"username": "bench-admin", "password": PASSWORD,
                                          "csrfmiddlewaretoken": token})  # fmt: skip
    if answer.status_code != 302:
        raise SystemExit(f"login failed: {answer.status_code}")
    return client


def _path(page: str, ids: list[str], rng: random.Random) -> str:
    return "/s/bench/" if page == "dashboard" else f"/s/bench/p/{rng.choice(ids)}/"


async def user(
    base: str,
    cookies: httpx.Cookies,
    ids: list[str],
    until: float,
    think: float,
    out: dict[str, list[float]],
    errors: list,
) -> None:
    rng = random.Random()
    # idle connections dropped after 1 s, before gunicorn closes them (its keepalive is 2 s):
    # a request sent on a connection the server is closing fails, which a browser retries
    limits = httpx.Limits(keepalive_expiry=1.0)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, timeout=30, limits=limits
    ) as client:
        await asyncio.sleep(rng.uniform(0, 2 * think))  # people do not all click at once
        while time.perf_counter() < until:  # one simulated user's requests, one at a time
            page = rng.choice(("dashboard", "participant"))
            path = _path(page, ids, rng)
            t = time.perf_counter()
            try:
                answer = await client.get(path)
            except httpx.TransportError as exc:  # counted, and the user carries on
                errors.append((path, repr(exc)))
                continue
            out[page].append((time.perf_counter() - t) * 1000)
            if answer.status_code != 200:
                errors.append((path, answer.status_code))
            await asyncio.sleep(rng.uniform(0, 2 * think))  # reading the page (0: none)


async def phase(
    base: str, cookies: httpx.Cookies, ids: list[str], users: int, seconds: float, think: float
) -> tuple[dict[str, list[float]], list]:
    out: dict[str, list[float]] = {"dashboard": [], "participant": []}
    errors: list = []
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(user(base, cookies, ids, until, think, out, errors) for _ in range(users))
    )
    return out, errors


def warm(base: str, ids: list[str]) -> httpx.Cookies:
    """Log in once (every user shares the session) and ask for the dashboard from several
    connections at once, so that each gunicorn worker has built its cached part before
    timing starts (a cold dashboard is measured by tests of the cache, not here)."""
    client = logged_in(base)

    async def dashboards() -> None:
        async with httpx.AsyncClient(base_url=base, cookies=client.cookies, timeout=60) as c:
            await asyncio.gather(*(c.get("/s/bench/") for _ in range(16)))

    asyncio.run(dashboards())
    client.get(f"/s/bench/p/{ids[0]}/")
    return client.cookies


def report(label: str, out: dict[str, list[float]], errors: list, seconds: float) -> float:
    """Prints the figures of one phase; returns its worst p95."""
    total = sum(len(v) for v in out.values())
    print(label)
    print(f"  {'page':<12} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    worst = 0.0
    for page, ms in out.items():
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        worst = max(worst, p95)
        print(f"  {page:<12} {len(ms):>8} {p50:>8.0f} {p95:>8.0f} {p99:>8.0f}")
    print(f"  throughput {total / seconds:.1f} requests/s, errors {len(errors)}")
    for what, n in Counter(str(e[1])[:80] for e in errors).most_common(3):
        print(f"    {n} x {what}")
    return worst


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--n", type=int, default=2000)
    args.add_argument("--users", type=int, default=20)
    args.add_argument("--seconds", type=float, default=30, help="length of each phase")
    args.add_argument(
        "--think", default="0,1", help="mean seconds between clicks, one phase per value"
    )
    args.add_argument("--workers", type=int, default=None, help="celltrial serve --workers")
    args.add_argument(
        "--study-dir", type=Path, default=None, help="keep the built study here; reuse it if there"
    )
    a = args.parse_args()
    thinks = [float(x) for x in a.think.split(",")]
    data_dir = a.study_dir or Path(tempfile.mkdtemp(prefix="celltrial-pages-bench-"))
    t = time.perf_counter()
    reuse = a.study_dir and (a.study_dir / "celltrial.sqlite3").exists()
    ids = stored_ids(data_dir) if reuse else build(data_dir, a.n)
    print(f"study: {len(ids)} simulated participants ready in {time.perf_counter() - t:.0f} s")
    port = free_port()
    command = [CLI, "serve", "--data-dir", str(data_dir), "--port", str(port)]
    if a.workers:
        command += ["--workers", str(a.workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        for _ in range(300):  # the server is up within a minute
            try:
                if httpx.get(f"{base}/login/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        cookies = warm(base, ids)
        for think in thinks:
            load = os.getloadavg()[0]
            out, errors = asyncio.run(phase(base, cookies, ids, a.users, a.seconds, think))
            results.append((think, load, out, errors))
    finally:
        server.terminate()
        try:
            server.wait(60)  # gunicorn finishes the requests in flight first
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"{a.users} concurrent users, {a.seconds:.0f} s per phase, SQLite, `celltrial serve`")
    verdicts = []
    for think, load, out, errors in results:
        kind = "back to back" if think == 0 else f"people-like, think 0-{2 * think:g} s"
        label = f"{kind} (mean think {think:g} s; load average {load:.1f} at start)"
        worst = report(label, out, errors, a.seconds)
        verdicts.append((think, worst, errors))
    for think, worst, errors in verdicts:
        met = "met" if worst < TARGET_P95_MS and not errors else "NOT met"
        applies = "the target's reading" if think > 0 else "stress reading, for comparison"
        print(
            f"p95 < {TARGET_P95_MS:.0f} ms at mean think {think:g} s ({applies}): {met}"
            f" (worst p95 {worst:.0f} ms)"
        )


if __name__ == "__main__":
    main()
