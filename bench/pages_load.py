"""Registry pages under load (issue 12): the study dashboard and participant pages of a
simulated 2,000-participant lian2022 study, served by `celltrial serve` (gunicorn) on
SQLite, requested by 20 concurrent logged-in users for a fixed time. Prints p50/p95/p99
latency per page, requests per second and errors. Target: p95 under 200 ms.

    python bench/pages_load.py [--n 2000] [--users 20] [--seconds 30] [--think 0]

--think 0 (the default) sends each user's requests back to back, the strictest reading of
"20 concurrent users"; --think 1 lets each user read a page for 0-2 s between clicks.
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
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


def user(
    base: str,
    ids: list[str],
    until: float,
    think: float,
    out: dict[str, list[float]],
    errors: list,
) -> None:
    client = logged_in(base)
    rng = random.Random()
    while time.perf_counter() < until:  # one simulated user's requests, one at a time
        page = rng.choice(("dashboard", "participant"))
        path = "/s/bench/" if page == "dashboard" else f"/s/bench/p/{rng.choice(ids)}/"
        t = time.perf_counter()
        try:
            answer = client.get(path)
        except httpx.TransportError as exc:  # counted, and the user carries on
            errors.append((path, repr(exc)))
            continue
        out[page].append((time.perf_counter() - t) * 1000)
        if answer.status_code != 200:
            errors.append((path, answer.status_code))
        time.sleep(rng.uniform(0, 2 * think))  # a person reading the page (0: back to back)


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--n", type=int, default=2000)
    args.add_argument("--users", type=int, default=20)
    args.add_argument("--seconds", type=float, default=30)
    args.add_argument("--think", type=float, default=0.0, help="mean seconds between clicks")
    a = args.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="celltrial-pages-bench-"))
    t = time.perf_counter()
    ids = build(data_dir, a.n)
    print(f"study: {a.n} simulated participants stored in {time.perf_counter() - t:.0f} s")
    port = free_port()
    server = subprocess.Popen(
        [CLI, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # the server is up within a minute
            try:
                if httpx.get(f"{base}/login/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        for warm in (logged_in(base),):  # caches and connections warm before timing
            warm.get("/s/bench/"), warm.get(f"/s/bench/p/{ids[0]}/")
        out: dict[str, list[float]] = {"dashboard": [], "participant": []}
        errors: list = []
        until = time.perf_counter() + a.seconds
        threads = [
            threading.Thread(target=user, args=(base, ids, until, a.think, out, errors))
            for _ in range(a.users)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        server.terminate()
        server.wait(30)
    total = sum(len(v) for v in out.values())
    print(
        f"{a.users} concurrent users, mean think time {a.think:g} s, {a.seconds:.0f} s on SQLite"
        " (gunicorn 2 x 8 threads)"
    )
    print(f"{'page':<12} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    worst = 0.0
    for page, ms in out.items():
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        worst = max(worst, p95)
        print(f"{page:<12} {len(ms):>8} {p50:>8.0f} {p95:>8.0f} {p99:>8.0f}")
    print(f"throughput {total / a.seconds:.1f} requests/s, errors {len(errors)}")
    verdict = "met" if worst < TARGET_P95_MS and not errors else "NOT met"
    print(f"target p95 < {TARGET_P95_MS:.0f} ms: {verdict} (worst p95 {worst:.0f} ms)")


if __name__ == "__main__":
    main()
