"""Monte-Carlo power and sample size of a randomized design (docs/designs.md).

Whole trials are simulated once at the largest sample size of the grid (celltrial.simulate,
the MSC effect on in the UC-MSC arm) and again with the same seed and the MSC effect off in
both arms (type I error); every n of the grid analyses the first n patients of each trial.
The patients are i.i.d. in enrolment order and the arms interleave by the allocation ratio
(simulate.allocation), so each prefix is a trial of n, and the grid shares its random numbers
(common random numbers: the curve is monotone up to noise, research note §5.4). The analyses
are vectorized across trials (simulate.trial_tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from celltrial.protocol import Protocol
from celltrial.simulate.allocation import msc_pattern
from celltrial.simulate.design import (
    TrialDesign,
    design_preset,
    design_protocol,
    parameter_draws,
)
from celltrial.simulate.physiology import Array
from celltrial.simulate.preset import Preset
from celltrial.simulate.trial_endpoints import visit_endpoints
from celltrial.simulate.trial_tests import ancova, logistic, rejects, two_proportions
from celltrial.simulate.virtual_trials import simulate_trials

# Trials simulated per block: bounds the memory of one block (~250 MB at 200 patients).
BLOCK_TRIALS = 250
# Power targets reported as smallest sample sizes (conventional 80 % and 90 %).
POWER_TARGETS = (0.8, 0.9)


@dataclass(frozen=True)
class TrialOutcomes:
    """Endpoint data of a block of trials, (T, N): outcome, baseline covariate, analysed mask."""

    y: Array
    covariate: Array
    mask: Array
    arm: Array  # (N,) or (T, N) bool, True = UC-MSC


# (preset, n_trials, n_patients, seed, msc_effect_on) -> outcomes of a block of trials
OutcomeSource = Callable[[Preset, int, int, list[int], bool], TrialOutcomes]


@dataclass(frozen=True)
class PowerResult:
    design: str
    endpoint: str
    alpha: float
    sims: int
    draws: int
    sizes: list[int]
    power: list[float]
    power_low: list[float]
    power_high: list[float]
    type1: list[float]
    type1_low: list[float]
    type1_high: list[float]
    mean_effect: list[float]  # mean estimated arm difference (UC-MSC - placebo)
    n_for: dict[str, int | None]  # smallest n of the grid reaching 80 % and 90 % power
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def simulator_source(design: TrialDesign, protocol: Protocol) -> OutcomeSource:
    """Outcomes from celltrial.simulate with the design's allocation and endpoint."""

    def source(preset: Preset, n_trials: int, n: int, seed: list[int], on: bool) -> TrialOutcomes:
        arm = msc_pattern(n, design.msc_share)
        sim = simulate_trials(
            preset, n_trials, n, seed, protocol=protocol, msc_arm=arm if on else False
        )
        e = visit_endpoints(sim, design.endpoint.visit, seed)
        if design.endpoint.kind == "hba1c_change_ancova":
            change = e.hba1c - e.hba1c_baseline
            return TrialOutcomes(change, e.hba1c_baseline, np.isfinite(change), arm)
        # responder: every randomized patient is analysed, a dropout as a non-responder
        everyone = np.ones(sim.shape, dtype=bool)
        return TrialOutcomes(e.responder, e.hba1c_baseline, everyone, arm)

    return source


def analyse(kind: str, out: TrialOutcomes, sizes: list[int], alpha: float) -> tuple[Array, Array]:
    """(len(sizes),) rejection counts and summed effect estimates over the block's trials,
    each n analysing the first n patients of every trial."""
    rej, eff = np.zeros(len(sizes)), np.zeros(len(sizes))
    arm = np.broadcast_to(out.arm, out.y.shape)
    for k, n in enumerate(sizes):  # one batched analysis per sample size of the grid
        y, a, c, m = out.y[:, :n], arm[:, :n], out.covariate[:, :n], out.mask[:, :n]
        if kind == "hba1c_change_ancova":
            res = ancova(y, a, c, m)
        elif kind == "responder_logistic":
            res = logistic(y.astype(bool), a, c, m & np.isfinite(c))
        else:
            res = two_proportions(y.astype(bool), a, m)
        rej[k] = rejects(res, alpha).sum()
        eff[k] = np.nansum(res.estimate)
    return rej, eff


def _block(args: tuple) -> tuple[Array, Array, Array, int]:
    design, preset, protocol, n_trials, n_max, seed, source, sizes = args
    source = source or simulator_source(design, protocol)
    kind, alpha = design.endpoint.kind, design.alpha
    alt_rej, eff = analyse(kind, source(preset, n_trials, n_max, seed, True), sizes, alpha)
    null_rej, _ = analyse(kind, source(preset, n_trials, n_max, seed, False), sizes, alpha)
    return alt_rej, null_rej, eff, n_trials


def power_curve(
    design: TrialDesign,
    sims: int,
    sizes: list[int] | None = None,
    seed: int = 0,
    workers: int = 1,
    on_block: Callable[[int], None] | None = None,
    source: OutcomeSource | None = None,
) -> PowerResult:
    """Power per total sample size with its Monte-Carlo 95 % CI (exact Clopper-Pearson), type
    I error with the MSC effect off, and the smallest n for 80 % and 90 % power.

    sims trials per n (shared by the whole grid), split evenly over the design's parameter
    draws; on_block(trials_done) after each block; source replaces the simulator (tests)."""
    t0 = time.perf_counter()
    sizes = sorted(sizes or design.n.sizes)
    protocol = design_protocol(design)
    endpoint_day = protocol.visit(design.endpoint.visit).target_day
    base = design_preset(design, endpoint_day)
    draws = min(design.uncertainty.draws, sims)
    z = np.random.default_rng([seed, 7]).standard_normal(
        (draws, len(design.uncertainty.parameters))
    )
    presets = parameter_draws(base, design.uncertainty, list(z))
    tasks = []
    for k, preset in enumerate(presets):  # a few draws x a few blocks
        share = sims // draws + (1 if k < sims % draws else 0)
        for b, start in enumerate(range(0, share, BLOCK_TRIALS)):
            n_trials = min(BLOCK_TRIALS, share - start)
            tasks.append(
                (design, preset, protocol, n_trials, max(sizes), [seed, k, b], source, sizes)
            )
    alt, null, eff = np.zeros(len(sizes)), np.zeros(len(sizes)), np.zeros(len(sizes))
    done = 0
    for a, nu, e, t in _run(tasks, workers if source is None else 1):
        alt, null, eff, done = alt + a, null + nu, eff + e, done + t
        if on_block is not None:
            on_block(done)
    return _result(design, sims, draws, sizes, alt, null, eff, time.perf_counter() - t0)


def _run(tasks: list[tuple], workers: int):
    if workers <= 1:
        yield from map(_block, tasks)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(_block, tasks)


def _interval(count: Array, n: int) -> tuple[list[float], list[float]]:
    lo, hi = proportion_confint(count, n, alpha=0.05, method="beta")
    return [float(x) for x in np.atleast_1d(lo)], [float(x) for x in np.atleast_1d(hi)]


def _result(design, sims, draws, sizes, alt, null, eff, seconds) -> PowerResult:
    power, type1 = alt / sims, null / sims
    p_lo, p_hi = _interval(alt, sims)
    t_lo, t_hi = _interval(null, sims)
    n_for = {}
    for target in POWER_TARGETS:
        hit = [n for n, p in zip(sizes, power, strict=True) if p >= target]
        n_for[f"{round(100 * target)}%"] = hit[0] if hit else None
    return PowerResult(
        design=design.id,
        endpoint=design.endpoint.kind,
        alpha=design.alpha,
        sims=sims,
        draws=draws,
        sizes=list(sizes),
        power=[float(x) for x in power],
        power_low=p_lo,
        power_high=p_hi,
        type1=[float(x) for x in type1],
        type1_low=t_lo,
        type1_high=t_hi,
        mean_effect=[float(x) for x in eff / sims],
        n_for=n_for,
        seconds=seconds,
    )
