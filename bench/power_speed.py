"""Power analysis speed: trials simulated and analysed per second, vectorized across trials,
against a per-trial loop (simulate one trial, fit statsmodels OLS at each n of the grid).

Full size of issue 14: 10,000 trials x 200 patients x 48 weeks (zang2022, 343 simulated days),
each analysed by ANCOVA at the ten sample sizes 20, 40, ..., 200, target under 60 s on 2 cores.
The vectorized run is timed in full (--trials 10000 by default) on --workers processes; the
baseline loop is timed on a small sample (--baseline-trials) and EXTRAPOLATED to the full size.
CPU seconds per worker are printed too: on a shared machine (load average above the core
count) the wall time is longer than the work takes on an idle one.

    uv run --frozen python bench/power_speed.py [--trials 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import statsmodels.api as sm

from celltrial.simulate.allocation import msc_pattern
from celltrial.simulate.design import design_preset, design_protocol, load_design
from celltrial.simulate.power import BLOCK_TRIALS, analyse, simulator_source
from celltrial.simulate.trial_endpoints import visit_endpoints
from celltrial.simulate.virtual_trials import simulate_trials

DESIGN = Path(__file__).parents[1] / "examples" / "designs" / "zang-hba1c-ancova.yaml"
PATIENTS = 200
FULL_TRIALS = 10_000
SIZES = list(range(20, PATIENTS + 1, 20))
TARGET_SECONDS = 60.0  # issue 14: 10,000 trials in under a minute on 2 cores

_WORKER: dict[str, object] = {}


def _init_worker() -> None:
    """Load design, preset and protocol once per process and warm up (imports, first arrays)."""
    design = load_design(DESIGN)
    protocol = design_protocol(design)
    preset = design_preset(design, protocol.visit(design.endpoint.visit).target_day)
    _WORKER.update(design=design, protocol=protocol, preset=preset)
    _block((2, 0))


def _block(args: tuple[int, int]) -> tuple[int, float, float]:
    """(trials, wall s, CPU s) of one block: simulate with the MSC effect on, analyse the grid."""
    trials, seed = args
    design, protocol, preset = _WORKER["design"], _WORKER["protocol"], _WORKER["preset"]
    t0, c0 = time.perf_counter(), time.process_time()
    source = simulator_source(design, protocol)  # type: ignore[arg-type]
    out = source(preset, trials, PATIENTS, [seed, 0, 0], True)  # type: ignore[arg-type]
    analyse(design.endpoint.kind, out, SIZES, design.alpha)  # type: ignore[union-attr]
    return trials, time.perf_counter() - t0, time.process_time() - c0


def _ready(_: int) -> int:
    return os.getpid()


def vectorized(trials: int, workers: int, block: int) -> tuple[float, float, float]:
    """(wall s, summed CPU s, s to start the warmed-up workers) for `trials` trials."""
    jobs = [(min(block, trials - s), 1000 + s) for s in range(0, trials, block)]
    t_start = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_init_worker) as pool:
        list(pool.map(_ready, range(workers)))
        startup = time.perf_counter() - t_start
        t0 = time.perf_counter()
        results = list(pool.map(_block, jobs))
        wall = time.perf_counter() - t0
    return wall, sum(r[2] for r in results), startup


def per_trial_loop(n: int) -> tuple[float, float]:
    """(wall s, CPU s) per trial of the loop a straightforward script would run: simulate one
    trial, then one statsmodels OLS fit (ANCOVA) per sample size of the grid."""
    design = load_design(DESIGN)
    protocol = design_protocol(design)
    preset = design_preset(design, protocol.visit(design.endpoint.visit).target_day)
    arm = msc_pattern(PATIENTS, design.msc_share)
    simulate_trials(preset, 1, PATIENTS, 0, protocol=protocol, msc_arm=arm)  # warm up
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):  # the baseline: one trial at a time
        sim = simulate_trials(preset, 1, PATIENTS, 10 + i, protocol=protocol, msc_arm=arm)
        e = visit_endpoints(sim, design.endpoint.visit, [10 + i])
        y, base = (e.hba1c - e.hba1c_baseline)[0], e.hba1c_baseline[0]
        for size in SIZES:
            keep = np.isfinite(y[:size])
            x = np.column_stack([np.ones(size), arm[:size], base[:size]])[keep]
            sm.OLS(y[:size][keep], x).fit()
    return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=FULL_TRIALS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--block", type=int, default=BLOCK_TRIALS)
    ap.add_argument("--baseline-trials", type=int, default=5)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    wall, cpu, startup = vectorized(args.trials, args.workers, args.block)
    days = 343  # zang2022: day -7 (baseline window) to day 350 (week 48 + 14)
    print(f"load average at start: {load:.2f} on {os.cpu_count()} cores")
    print(f"workers started and warmed up in {startup:.2f} s (not in the time)")
    print(
        f"vectorized: {args.trials} trials x {PATIENTS} patients x {days} days simulated and "
        f"analysed at {len(SIZES)} sample sizes in {wall:.1f} s on {args.workers} processes: "
        f"{args.trials / wall:.0f} trials/s (target: {FULL_TRIALS} in < {TARGET_SECONDS:.0f} s)"
    )
    idle = cpu / args.workers
    print(
        f"vectorized CPU time {cpu:.1f} s in all, {idle:.1f} s per worker: "
        f"{args.trials / idle:.0f} trials/s when the {args.workers} cores are not shared"
    )
    per, per_cpu = per_trial_loop(args.baseline_trials)
    print(
        f"per-trial loop (timed on {args.baseline_trials} trials, extrapolated): {per:.3f} s "
        f"wall and {per_cpu:.3f} CPU s per trial, {1 / per:.1f} trials/s on 1 process; "
        f"{FULL_TRIALS} trials: ~{FULL_TRIALS * per / args.workers / 60:.1f} min wall on "
        f"{args.workers} processes, {FULL_TRIALS * per_cpu / args.workers:.0f} s when not shared"
    )
    ratio = (args.trials / wall) / (args.workers / per)
    ratio_cpu = (args.trials / cpu) / (1 / per_cpu)
    print(
        f"ratio vectorized / per-trial loop: {ratio:.0f}x by wall time, {ratio_cpu:.0f}x by "
        "CPU time (the loop itself simulates its 200 patients as arrays; a loop per patient "
        "is bench/simulate_speed.py's baseline)"
    )
    full_s = FULL_TRIALS / (args.trials / wall)
    verdict = "meets" if full_s < TARGET_SECONDS else "MISSES"
    print(f"{FULL_TRIALS} trials: {full_s:.1f} s wall, {verdict} the {TARGET_SECONDS:.0f} s target")


if __name__ == "__main__":
    main()
