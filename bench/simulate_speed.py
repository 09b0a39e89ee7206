"""Simulated patient-days per second: the vectorized simulator vs a per-patient solve_ivp loop.

Full size of issue 5: 10,000 trials x 200 patients x 365 days. By default a timed fraction
(--trials) is run on --workers processes and the rate is extrapolated; --trials 10000 runs
the full size. The baseline integrates the same model (QSS glucose, MSC and trial effects,
drug factors, HbA1c transit chain, weekly titration) one patient at a time with
scipy.integrate.solve_ivp, on a small sample.

    uv run --frozen python bench/simulate_speed.py [--trials 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise

import numpy as np
from scipy.integrate import solve_ivp

from celltrial.protocol import load_protocol
from celltrial.simulate.physiology import KFPG, fpg_qss, hba1c_chain_start, logistic_fraction
from celltrial.simulate.preset import load_preset
from celltrial.simulate.treatment import LN2, oral_factors, trial_effect_shape
from celltrial.simulate.virtual_trials import SimulatedTrials, simulate_trials

PRESET = "chin2025"  # a 365-day protocol (m0, m6, m12)
PATIENTS = 200
FULL_TRIALS = 10_000
TARGET_RATE = 5e7  # patient-days/s on 2 cores (issue 5)
TARGET_RATIO = 1000.0


_WORKER: dict[str, object] = {}


def _init_worker() -> None:
    """Load the preset and protocol once per process and warm up (imports, first arrays), as
    a power analysis running many blocks in one process would."""
    preset = load_preset(PRESET)
    protocol = load_protocol(preset.protocol)
    _WORKER.update(preset=preset, protocol=protocol)
    simulate_trials(preset, 2, PATIENTS, 0, protocol=protocol)


def _block(args: tuple[int, int]) -> tuple[int, float, float]:
    """(patient-days, wall s, CPU s of this process) of one block of trials."""
    trials, seed = args
    preset, protocol = _WORKER["preset"], _WORKER["protocol"]
    t0, c0 = time.perf_counter(), time.process_time()
    sim = simulate_trials(preset, trials, PATIENTS, seed, protocol=protocol)  # type: ignore[arg-type]
    days = sim.design.last_day - sim.design.first_day + 1
    return trials * PATIENTS * days, time.perf_counter() - t0, time.process_time() - c0


def _ready(_: int) -> int:
    return os.getpid()


def vectorized_rate(
    trials: int, workers: int, block: int
) -> tuple[float, float, int, float, float]:
    """(patient-days/s, wall s, patient-days, s for starting the warmed-up workers,
    patient-days per CPU second of one worker)."""
    jobs = [(block, 1000 + i) for i in range(max(1, trials // block))]
    t_start = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_init_worker) as pool:
        list(pool.map(_ready, range(workers)))  # every worker started and warmed up
        startup = time.perf_counter() - t_start
        t0 = time.perf_counter()
        results = list(pool.map(_block, jobs))
        wall = time.perf_counter() - t0
    patient_days = sum(r[0] for r in results)
    per_cpu_s = patient_days / sum(r[2] for r in results)
    return patient_days / wall, wall, patient_days, startup, per_cpu_s


def _one_patient(sim: SimulatedTrials, i: int) -> None:
    """Integrate one patient's HbA1c chain with solve_ivp (RK45), titrating weekly."""
    preset, c, d = sim.preset, sim.cohort, sim.design
    reg, msc = preset.regimen, preset.msc
    ka, ke = LN2 / msc.onset_half_life_days, LN2 / msc.offset_half_life_days
    x0 = c.oral_x0[:, 0, i : i + 1]
    dose = sim.dose_cells[:, 0, i] / c.weight[0, i] / 1e6
    k = 3.0 / 38.9  # Choy 2016 MTT

    def fpg_at(t: float, ins: float, frac: float) -> float:
        tau = np.maximum(t - np.array(d.infusion_days), 0.0)
        m = np.sum(dose * ka / (ka - ke) * (np.exp(-ke * tau) - np.exp(-ka * tau)))
        h = m / (msc.m50 + m)
        fac = oral_factors(reg, x0, np.array([frac]))
        b = logistic_fraction(c.lb[0, i] + c.rb[0, i] * t / 365.25) * fac["b"][0]
        g = trial_effect_shape(np.array(t), preset.trial_effect)
        s = logistic_fraction(c.ls[0, i]) * fac["s"][0]
        b = b * (1 + c.emax_b[0, i] * h + c.trial_size_b[0, i] * g)
        s = s * (1 + c.emax_s[0, i] * h + c.trial_size[0, i] * g)
        return float(fpg_qss(b, s, reg.kappa * ins, KFPG * fac["kfpg"][0]))

    def rhs(t: float, a: np.ndarray, ins: float, frac: float) -> np.ndarray:
        u = 0.0129 * fpg_at(t, ins, frac) + c.ppg[0, i]
        return np.array([u - k * a[0], k * (a[0] - a[1]), k * (a[1] - a[2])])

    ins, frac = c.insulin0[0, i], 1.0
    a = hba1c_chain_start(np.array(fpg_at(d.first_day, ins, frac)), c.ppg[0, i])
    edges = [d.first_day, *sorted(d.titration_days), d.last_day + 1]
    for lo, hi in pairwise(edges):
        a = solve_ivp(rhs, (lo, hi), a, args=(ins, frac), rtol=1e-6, atol=1e-8).y[:, -1]
        ins = ins * (0.9 if fpg_at(hi, ins, frac) < 4.4 else 1.0)  # weekly titration step


def per_patient_rate(n_patients: int) -> tuple[float, int]:
    """The same model, one patient at a time (the baseline a straightforward port would be)."""
    sim = simulate_trials(load_preset(PRESET), 1, n_patients, 5)  # reuse sampled patients
    days = sim.design.last_day - sim.design.first_day + 1
    t0 = time.perf_counter()
    for i in range(n_patients):
        _one_patient(sim, i)
    wall = time.perf_counter() - t0
    return n_patients * days / wall, n_patients * days


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=400, help="trials to time (full: 10000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--block", type=int, default=100, help="trials per process task")
    ap.add_argument("--baseline-patients", type=int, default=10)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    rate, wall, pdays, startup, per_cpu = vectorized_rate(args.trials, args.workers, args.block)
    full = FULL_TRIALS * PATIENTS * 365
    print(f"load average at start: {load:.2f} (other work on the machine slows the rates)")
    print(f"workers started and warmed up in {startup:.2f} s (not in the rate)")
    print(f"vectorized: {pdays:.3g} patient-days in {wall:.2f} s on {args.workers} processes")
    print(f"vectorized: {rate:.3g} patient-days/s (target {TARGET_RATE:.1g})")
    print(
        f"vectorized per CPU second of one worker: {per_cpu:.3g} patient-days "
        f"(x {args.workers} workers = {per_cpu * args.workers:.3g}/s on an otherwise idle machine)"
    )
    print(f"full size 10,000 x 200 x 365 = {full:.3g} patient-days: ~{full / rate:.0f} s")
    base, bdays = per_patient_rate(args.baseline_patients)
    print(f"per-patient solve_ivp loop: {base:.3g} patient-days/s ({bdays} patient-days)")
    ratio = rate / base
    print(f"ratio vectorized / per-patient: {ratio:.0f}x (target >= {TARGET_RATIO:.0f}x)")


if __name__ == "__main__":
    main()
