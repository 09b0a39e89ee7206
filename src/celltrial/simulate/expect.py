"""Expected response of one candidate patient under a calibrated model.

The preset's virtual population (its protocol's eligibility, no dropout, everyone given UC-MSC)
is simulated on a calendar of baseline, 3, 6 and 12 months, and each virtual patient is weighted
by how closely its baseline resembles the candidate: **rejection** on the categorical values
(sex, insulin use, each named oral drug must match exactly) and **importance weighting** on the
continuous ones (Gaussian kernel on each value standardized by its population SD, bandwidth by
Scott's rule n^(-1/(d+4)); Scott DW, Multivariate Density Estimation, 1992). The weighted
distribution of the outcomes is the prediction; its Monte-Carlo precision is that of a sample
of the effective size ESS = (sum w)^2 / sum w^2 (Kish 1965).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from celltrial.clinical.analytes import ANALYTES
from celltrial.protocol import Protocol, Visit, load_protocol
from celltrial.simulate.measurement import observe
from celltrial.simulate.physiology import Array
from celltrial.simulate.prescriptions import total_ddd
from celltrial.simulate.preset import Preset, with_parameters
from celltrial.simulate.trial_endpoints import RESPONDER_HBA1C_BELOW
from celltrial.simulate.virtual_trials import SimulatedTrials, simulate_trials

# Months after the first infusion at which HbA1c is predicted (issue 14), and their days.
MONTH_DAYS = {3: 91, 6: 182, 12: 365}  # 365.25/12 days per month, rounded down
# Quantiles reported: median, quartiles and the central 95 % prediction interval.
QUANTILES = (0.025, 0.25, 0.5, 0.75, 0.975)
# "Dose of glucose-lowering drugs reduced by more than 50 %" (issue 14; Lian 2022 L197-198).
DOSE_REDUCTION = 0.5
# Two-sided 95 % normal quantile for the Monte-Carlo interval of a weighted share.
Z95 = 1.959964
# An effective sample below this is too few virtual look-alikes to trust [A].
MIN_ESS = 100.0
CAVEAT = (
    "The model is calibrated on small studies (Lian 2022: 16 patients, single arm; Zang 2022: "
    "91 patients, one randomized trial; Chin 2025: a registry summary), so these are the "
    "model's expectations for patients like this one, not a clinical prediction."
)


class ExpectError(ValueError):
    """A candidate value that cannot be used; the message names the option and the rule."""


@dataclass(frozen=True)
class Candidate:
    """The values given for the candidate; None = not given (not conditioned on)."""

    age: float | None = None
    sex: str | None = None  # "M" or "F"
    hba1c: float | None = None  # %
    fpg: float | None = None  # mmol/L
    fcp: float | None = None  # pmol/L
    insulin_u_per_kg: float | None = None  # U/kg/day, 0 = no insulin
    drugs: list[str] = field(default_factory=list)  # oral drugs taken (INN)


@dataclass(frozen=True)
class MonthPrediction:
    month: int
    mean: float
    quantiles: dict[str, float]  # "2.5%" ... "97.5%"
    p_below_7: float
    p_below_7_ci: tuple[float, float]
    p_dose_halved: float
    p_dose_halved_ci: tuple[float, float]


@dataclass(frozen=True)
class Expectation:
    preset: str
    method: str
    n_virtual: int
    n_matching: int  # virtual patients passing the rejection step
    ess: float
    baseline_hba1c: float  # weighted mean of the look-alikes' baseline HbA1c
    months: list[MonthPrediction]
    caveat: str = CAVEAT
    warnings: list[str] = field(default_factory=list)


def expect_protocol(protocol: Protocol) -> Protocol:
    """The preset's protocol (eligibility, dosing, titration) on a calendar of baseline and 3,
    6 and 12 months, exact days: the population the preset was calibrated on, followed a year."""
    visits = [Visit(id="m0", target_day=0, window_before=0, window_after=0, baseline=True)]
    visits += [
        Visit(id=f"m{m}", target_day=d, window_before=0, window_after=0)
        for m, d in MONTH_DAYS.items()
    ]
    return protocol.model_copy(update={"visits": visits, "run_in_days": 0})


def _check(c: Candidate, preset: Preset) -> None:
    for name in ("hba1c", "fpg", "fcp"):
        value = getattr(c, name)
        lo, hi = ANALYTES[name].plausible
        if value is not None and not lo <= value <= hi:
            unit = ANALYTES[name].unit
            raise ExpectError(
                f"--{name} {value:g}: outside the plausible range {lo:g}-{hi:g} {unit} "
                "(celltrial.clinical.analytes)"
            )
    if c.age is not None and not 18 <= c.age <= 100:
        raise ExpectError(f"--age {c.age:g}: the model covers adults 18-100 years")
    if c.sex not in (None, "M", "F"):
        raise ExpectError(f"--sex {c.sex!r}: M or F")
    if c.insulin_u_per_kg is not None and not 0 <= c.insulin_u_per_kg <= 3:
        # above 3 U/kg/day is extreme insulin resistance, outside every preset [A]
        raise ExpectError(f"--insulin-u-per-kg {c.insulin_u_per_kg:g}: expected 0-3 U/kg/day")
    known = [d.drug for d in preset.regimen.oral]
    for d in c.drugs:
        if d not in known:
            raise ExpectError(
                f"--drug {d!r}: not in the regimen of preset {preset.id} ({', '.join(known)})"
            )


def expected_response(
    preset: Preset, candidate: Candidate, n_virtual: int = 100000, seed: int = 0
) -> Expectation:
    """The distribution of HbA1c at 3, 6 and 12 months and the chances of HbA1c < 7 % and of
    a > 50 % dose reduction for patients of the preset's population resembling `candidate`."""
    _check(candidate, preset)
    protocol = expect_protocol(load_protocol(preset.protocol))
    quiet = with_parameters(preset, {"events.dropout_per_year": 0.0})
    quiet = quiet.model_copy(update={"n_long_follow_up": None})
    sim = simulate_trials(quiet, 1, n_virtual, seed, protocol=protocol)
    values = observe(sim, np.random.default_rng([seed, 99]))
    weight, matched, weighted = _weights(sim, values, candidate, preset)
    warnings: list[str] = []
    ess = float(weight.sum() ** 2 / (weight**2).sum()) if weight.sum() > 0 else 0.0
    if ess < 1.0:
        raise ExpectError(
            f"no virtual patient of preset {preset.id} resembles the values given "
            "(sex, insulin use and drugs must all occur in its population)"
        )
    if ess < MIN_ESS:
        warnings.append(
            f"only {ess:.0f} effective virtual look-alikes: the values lie at the edge of "
            f"the {preset.id} population: give fewer values, or read the intervals as rough"
        )
    w = weight / weight.sum()
    hba1c = values["hba1c"][:, 0]  # (V, N)
    total = total_ddd(sim)[:, 0]
    halved = total <= (1.0 - DOSE_REDUCTION) * total[0][None] - 1e-9  # "more than 50 %"
    months = [_month(m, hba1c[v], halved[v], w, ess) for v, m in enumerate(MONTH_DAYS, start=1)]
    return Expectation(
        preset=preset.id,
        method=f"rejection on {', '.join(matched) or 'nothing'}; importance weights (Gaussian "
        f"kernel, Scott's bandwidth) on {', '.join(weighted) or 'nothing'}",
        n_virtual=n_virtual,
        n_matching=int((weight > 0).sum()),
        ess=ess,
        baseline_hba1c=float((w * hba1c[0]).sum()),
        months=months,
        warnings=warnings,
    )


def _weights(
    sim: SimulatedTrials, values: dict[str, Array], c: Candidate, preset: Preset
) -> tuple[Array, list[str], list[str]]:
    """Rejection mask times the Gaussian kernel of the continuous values given; with the names
    of the values matched exactly and of those weighted."""
    cohort = sim.cohort
    keep = np.ones(cohort.age.shape[1], dtype=bool)
    matched = []
    if c.sex is not None:
        keep &= cohort.male[0] == (c.sex == "M")
        matched.append("sex")
    insulin = cohort.insulin0[0]
    if c.insulin_u_per_kg is not None:
        keep &= (insulin > 0) == (c.insulin_u_per_kg > 0)
        matched.append("insulin use")
    names = [d.drug for d in preset.regimen.oral]
    for d in c.drugs:
        keep &= cohort.oral_x0[names.index(d), 0] > 0
        matched.append(d)
    continuous = {
        "age": (c.age, cohort.age[0]),
        "hba1c": (c.hba1c, values["hba1c"][0, 0]),
        "fpg": (c.fpg, values["fpg"][0, 0]),
        "fcp": (c.fcp, values["fcp"][0, 0]),
    }
    if c.insulin_u_per_kg:  # a dose among insulin users (0 is matched by rejection above)
        continuous["insulin"] = (c.insulin_u_per_kg, insulin)
    given = {k: v for k, v in continuous.items() if v[0] is not None}
    h = len(keep) ** (-1.0 / (len(given) + 4))  # Scott's rule
    log_w = np.zeros(len(keep))
    for value, population in given.values():  # one term per value given (at most five)
        sd = float(np.std(population[keep])) if keep.any() else 1.0
        log_w -= 0.5 * ((population - value) / (h * sd)) ** 2
    w = np.where(keep, np.exp(log_w - log_w[keep].max() if keep.any() else log_w), 0.0)
    labels = {"age": "age", "hba1c": "HbA1c", "fpg": "FPG", "fcp": "C-peptide"}
    return w, matched, [labels.get(k, "insulin dose") for k in given]


def _weighted_quantiles(x: Array, w: Array, q: tuple[float, ...]) -> Array:
    """Quantiles of the weighted sample: the inverse of the weighted empirical CDF, with each
    point at the middle of its weight (Hyndman & Fan 1996 type 5 for equal weights)."""
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    cdf = np.cumsum(ws) - 0.5 * ws
    return np.interp(q, cdf / ws.sum(), xs)


def _share(flag: Array, w: Array, ess: float) -> tuple[float, tuple[float, float]]:
    """Weighted share and its normal 95 % interval with the effective sample size."""
    p = float((w * flag).sum())
    half = Z95 * np.sqrt(p * (1.0 - p) / ess)
    return p, (max(0.0, p - half), min(1.0, p + half))


def _month(month: int, hba1c: Array, halved: Array, w: Array, ess: float) -> MonthPrediction:
    q = _weighted_quantiles(hba1c, w, QUANTILES)
    p7, p7_ci = _share(hba1c < RESPONDER_HBA1C_BELOW, w, ess)
    ph, ph_ci = _share(halved, w, ess)
    return MonthPrediction(
        month=month,
        mean=float((w * hba1c).sum()),
        quantiles={f"{100 * a:g}%": float(v) for a, v in zip(QUANTILES, q, strict=True)},
        p_below_7=p7,
        p_below_7_ci=p7_ci,
        p_dose_halved=ph,
        p_dose_halved_ci=ph_ci,
    )
