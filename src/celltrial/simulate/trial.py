"""The time loop: simulated trials x patients advanced one day at a time with array operations.

A loop over days is the only Python loop (research note §5.4); every day is a handful of
elementwise NumPy operations on arrays shaped (trials, patients). Only visit-day snapshots
are stored, as arrays shaped (visits, trials, patients).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from celltrial.protocol import Protocol
from celltrial.simulate.closed_loop import Titrator, lowest_reading
from celltrial.simulate.cohort import Cohort
from celltrial.simulate.physiology import (
    KFPG,
    Array,
    fpg_qss,
    hba1c_chain_start,
    hba1c_of,
    hba1c_step,
    logistic_fraction,
)
from celltrial.simulate.preset import Preset
from celltrial.simulate.treatment import MscSignal, oral_factors, trial_effect_shape

SNAPSHOT_VARS = ("fpg", "b", "s", "insulin", "oral_frac", "hba1c", "msc")
# Daily state in float32: half the memory traffic of float64; its 7 significant digits are
# far finer than the 2-decimal values reported (bench/simulate_speed.py measures the gain).
DAY_DTYPE = np.float32


@dataclass(frozen=True)
class Design:
    """The protocol's calendar in simulation days (day 0 = the protocol's anchor)."""

    visit_ids: tuple[str, ...]
    target: Array  # (V,)
    lower: Array  # (V,) first day of the window
    upper: Array  # (V,)
    baseline: int  # index of the baseline visit
    infusion_days: tuple[int, ...]
    titration_days: frozenset[int]
    first_day: int
    last_day: int

    @classmethod
    def from_protocol(cls, protocol: Protocol, preset: Preset) -> Design:
        # the paper's schedule only: extension visits (Lian's 3-year follow-up) are the
        # registry's to schedule, not part of the trial the simulator reproduces
        visits = protocol.trial_visits
        ids = tuple(v.id for v in visits)
        target = np.array([v.target_day for v in visits])
        lower = np.array([v.lower_day for v in visits])
        upper = np.array([v.upper_day for v in visits])
        # the baseline window ends before the first infusion: the protocol loader checks
        # it, so the simulator uses the protocol's windows as they are
        base = next(i for i, v in enumerate(visits) if v.baseline)
        infusions = tuple(protocol.dosing.infusion_days)
        last = int(upper.max())
        every = preset.titration_every_days
        start = infusions[-1]  # doses unchanged until the infusions are given (Lian 2022 L181)
        if preset.titration_start == "first_infusion":  # infusions weeks apart (zang2022)
            start = infusions[0]
        return cls(
            visit_ids=ids,
            target=target,
            lower=lower,
            upper=upper,
            baseline=base,
            infusion_days=infusions,
            titration_days=frozenset(range(start + every, last + 1, every)),
            first_day=min(int(lower.min()), 0),
            last_day=last,
        )


@dataclass
class Trajectories:
    """Visit snapshots and per-patient events of one block of simulated trials."""

    visit_day: Array  # (V, T, N) int
    snap: dict[str, Array]  # var -> (V, T, N)
    fever: Array  # (n_infusions, T, N) bool: fever within 24 h of that infusion
    hypo_days: Array  # (K, T, N) day of each titration step with a hypoglycaemia, or -1
    dropout_day: Array  # (T, N) float, inf when the patient stays to the end
    insulin_baseline: Array  # (T, N) U/kg/day at day 0

    @property
    def observed(self) -> Array:
        """(V, T, N) bool: the visit took place (before dropout)."""
        return self.visit_day < self.dropout_day[None]


def visit_days(design: Design, rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    """Actual visit days, uniform within each window (research note §5.5 item 6)."""
    u = rng.random((len(design.target), *shape))
    span = (design.upper - design.lower + 1)[:, None, None]
    return design.lower[:, None, None] + np.floor(u * span).astype(np.int64)


def run_days(
    preset: Preset,
    design: Design,
    cohort: Cohort,
    dose_per_kg: Array,
    titrator: Titrator,
    rng: np.random.Generator,
    on_day: Callable[[int], None] | None = None,
) -> Trajectories:
    """Advance the selected cohort (T, N) through the protocol calendar."""
    shape = cohort.lb.shape
    vday = visit_days(design, rng, shape)
    snap = {k: np.zeros((len(design.target), *shape)) for k in SNAPSHOT_VARS}
    # visits whose window holds each day: only those are compared on that day
    held = {
        day: [v for v in range(len(design.target)) if design.lower[v] <= day <= design.upper[v]]
        for day in range(design.first_day, design.last_day + 1)
    }
    reg, lat, c = preset.regimen, preset.latent, cohort
    s_base = logistic_fraction(cohort.ls)
    ins = cohort.insulin0.copy()
    frac = np.ones(shape)
    msc = MscSignal(preset.msc, shape, DAY_DTYPE)
    msc_on = False  # no MSC signal before the first infusion: skip its arithmetic
    # Fever within 24 h of each infusion: per-infusion Bernoulli (research note §4.4).
    p_fever = np.array(preset.events.fever_p_infusion)[: len(design.infusion_days)]
    fever = rng.random((len(design.infusion_days), *shape)) < p_fever[:, None, None]
    n_steps = len(design.titration_days)
    hypo_u = rng.random((max(n_steps, 1), *shape))
    smbg_z = rng.standard_normal((max(n_steps, 1), *shape))
    hypo_days = np.full((max(n_steps, 1), *shape), -1, dtype=np.int64)
    # Dropout: constant hazard per year (research note §5.5 item 6, assumption [A]).
    rate = preset.events.dropout_per_year / 365.25
    dropout = rng.exponential(1.0, shape) / rate if rate > 0 else np.full(shape, np.inf)
    g_trial = trial_effect_shape(
        np.arange(design.first_day, design.last_day + 1), preset.trial_effect
    )
    b_nat = logistic_fraction(cohort.lb)
    fpg0 = fpg_qss(b_nat, s_base, reg.kappa * ins)
    chain = hba1c_chain_start(fpg0, cohort.ppg).astype(DAY_DTYPE)
    # pre-treatment reference of the de-escalation rule: the lowest reading of the week
    # before day 0 (MSC and trial effects are still zero there)
    fpg_ref = lowest_reading(fpg0, rng.standard_normal(shape))
    mod = _Modifiers(preset, cohort, s_base)
    mod.set_doses(ins, frac, b_nat)
    w = _Workspace(shape)
    w.fpg[...] = fpg0
    w.b[...] = mod.bb
    eb, es, ts, tb = (
        np.asarray(a, DAY_DTYPE) for a in (c.emax_b, c.emax_s, c.trial_size, c.trial_size_b)
    )
    trial = (ts, tb if preset.trial_effect.size_b > 0 else None)  # skip a zero Pl_B each day
    step = 0
    for i, day in enumerate(range(design.first_day, design.last_day + 1)):
        if day > 0 and day % 7 == 0:
            # beta-cell drift rb logit/yr (Choy 2016), refreshed weekly to save an exp a day
            b_nat = logistic_fraction(c.lb + c.rb * (day / 365.25))
            mod.set_beta(b_nat)
        if day in design.titration_days:
            fpg = w.fpg.astype(float)
            pg2h_ratio = np.exp(lat.pg2h_c0 + lat.pg2h_c1 * (1.0 - w.b) + c.pg2h_eta)
            hypo = hypo_u[step] < _hypo_probability(preset, fpg, ins, preset.titration_every_days)
            hypo_days[step] = np.where(hypo, day, -1)
            ins, frac, fpg_ref = titrator.step(
                fpg, fpg * pg2h_ratio, ins, frac, c, smbg_z[step], hypo, fpg_ref
            )
            step += 1
            mod.set_doses(ins, frac, b_nat)
        msc.decay()
        for j, inf_day in enumerate(design.infusion_days):
            if day == inf_day:
                msc.give(dose_per_kg[j])
                msc_on = True
        w.effective(mod, msc if msc_on else None, (eb, es), trial, float(g_trial[i]))
        fpg_qss(w.b, w.s, mod.x, mod.kf, out=w.fpg, work=(w.tmp, w.tmp2))
        hba1c_step(chain, w.fpg, mod.pp, work=w.tmp)
        for v in held[day]:
            _record(snap, v, vday[v] == day, w.fpg, w.b, w.s, ins, frac, chain, w.h)
        if on_day is not None:
            on_day(day)
    return Trajectories(vday, snap, fever, hypo_days, dropout, cohort.insulin0)


class _Modifiers:
    """Per-patient factors that change only on titration days (doses) or weekly (beta-cell
    drift), kept in the daily dtype so that a day multiplies them without conversion."""

    def __init__(self, preset: Preset, cohort: Cohort, s_base: Array) -> None:
        self.reg, self.cohort, self.s_base = preset.regimen, cohort, s_base

    def set_doses(self, ins: Array, frac: Array, b_nat: Array) -> None:
        self.fac = oral_factors(self.reg, self.cohort.oral_x0, frac)
        self.x = np.asarray(self.reg.kappa * ins, DAY_DTYPE)
        self.ss = np.asarray(self.s_base * self.fac["s"], DAY_DTYPE)
        self.kf = np.asarray(KFPG * self.fac["kfpg"], DAY_DTYPE)
        self.pp = np.asarray(self.cohort.ppg * self.fac["ppg"], DAY_DTYPE)
        self.set_beta(b_nat)

    def set_beta(self, b_nat: Array) -> None:
        self.bb = np.asarray(b_nat * self.fac["b"], DAY_DTYPE)


class _Workspace:
    """Preallocated daily arrays: a simulated day allocates no array (bench/simulate_speed)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.h, self.b, self.s, self.fpg, self.tmp, self.tmp2 = (
            np.zeros(shape, DAY_DTYPE) for _ in range(6)
        )

    def effective(
        self,
        mod: _Modifiers,
        msc: MscSignal | None,
        emax: tuple[Array, Array],
        trial: tuple[Array, Array | None],
        g: float,
    ) -> None:
        """B = bb.(1 + Emax_B.h + Pl_B.g(t)), S = ss.(1 + Emax_S.h + Pl_S.g(t)) (research
        note §5.2); emax = (Emax_B, Emax_S), trial = (Pl_S, Pl_B or None when it is zero)."""
        (eb, es), (ts, tb) = emax, trial
        if msc is None:
            self.b.fill(0.0)
            self.s.fill(0.0)
        else:
            msc.response(out=self.h, work=self.tmp)
            np.multiply(eb, self.h, out=self.b)
            np.multiply(es, self.h, out=self.s)
        if g != 0.0:
            np.multiply(ts, g, out=self.tmp)
            self.s += self.tmp
            if tb is not None:
                np.multiply(tb, g, out=self.tmp)
                self.b += self.tmp
        self.b += 1.0
        self.b *= mod.bb
        self.s += 1.0
        self.s *= mod.ss


def _hypo_probability(preset: Preset, fpg: Array, ins: Array, days: int) -> Array:
    """P(at least one hypoglycaemia in `days`): Poisson rate rising as FPG falls and with the
    insulin dose (research note §4.4, assumption [A])."""
    ev = preset.events
    rate = ev.hypo_rate_per_day * np.exp(-(fpg - 4.4) / ev.hypo_fpg_scale)
    rate *= 1.0 + ev.hypo_insulin_slope * ins
    return 1.0 - np.exp(-rate * days)


def _record(
    snap: dict[str, Array],
    v: int,
    here: Array,
    fpg: Array,
    b: Array,
    s: Array,
    ins: Array,
    frac: Array,
    chain: Array,
    h: Array,
) -> None:
    """Copy today's state into visit v of the patients seen today (here: (T, N) bool)."""
    if not here.any():
        return
    values = {"fpg": fpg, "b": b, "s": s, "insulin": ins, "oral_frac": frac, "msc": h}
    for k, val in values.items():
        np.copyto(snap[k][v], val, where=here)
    np.copyto(snap["hba1c"][v], hba1c_of(chain), where=here)
