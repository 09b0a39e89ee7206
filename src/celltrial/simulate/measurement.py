"""What a lab reports at a visit: latent truth x within-subject biological x analytical noise.

y_obs = y_true . exp(e_I + e_A), e ~ N(0, ln(1 + CV^2)) (research note §3.1). Glycaemic truths
come from the physiology; non-glycaemic labs are latent log-normal processes linked to insulin
sensitivity and the MSC response (note §3.3, §5.2). All arrays are (visits, trials, patients).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from celltrial.clinical.units import convert
from celltrial.simulate.cohort import lab_log0
from celltrial.simulate.physiology import Array, fsi_endogenous
from celltrial.simulate.preset import Lab
from celltrial.simulate.virtual_trials import SimulatedTrials


@dataclass(frozen=True)
class NoiseCV:
    cvi: float  # within-subject biological CV
    cva: float  # analytical CV
    source: str


# Research note §3.2 table (EFLM/EuBIVAS and T2D test-retest studies).
GLYCAEMIC_CV = {
    "fpg": NoiseCV(0.07, 0.02, "Mooy 1996 T2D test-retest ~7 %; CVA ~2 % [A]"),
    "pg2h": NoiseCV(0.13, 0.02, "Mooy 1996: 2-h OGTT glucose CV ~13 %"),
    "hba1c": NoiseCV(0.012, 0.015, "Ricos 2020 CVI 1.2 %; lab CVA 1-2 %"),
    "fins": NoiseCV(0.26, 0.027, "Widjaja 1999 CVI 26 %; Zhou 2022 intra-lab 2.7 %"),
    "fcp": NoiseCV(0.24, 0.023, "Widjaja 1999 CVI 24 %; Zhou 2022 intra-lab 2.3 %"),
    "cp2h": NoiseCV(0.24, 0.023, "as fasting C-peptide (Widjaja 1999) [A]"),
    "weight": NoiseCV(0.01, 0.0, "day-to-day ~1 % [A]"),
}


def noise(rng: np.random.Generator, cvi: float, cva: float, shape: tuple[int, ...]) -> Array:
    """exp(e_I + e_A) with e ~ N(0, ln(1+CV^2)) (research note §3.1)."""
    sd = np.sqrt(np.log1p(cvi**2) + np.log1p(cva**2))
    return np.exp(sd * rng.standard_normal(shape))


def glycaemic_truth(sim: SimulatedTrials) -> dict[str, Array]:
    """True fasting and 2-h values at each visit, (V, T, N), in canonical units."""
    snap, c, lat = sim.traj.snap, sim.cohort, sim.preset.latent
    fsi_endo = fsi_endogenous(snap["b"], snap["fpg"])  # uU/mL (Choy 2016 FSI QSS)
    x = sim.preset.regimen.kappa * snap["insulin"]
    fcp = c.c_cp[None] * fsi_endo  # equimolar secretion, slower C-peptide clearance (note §5.3)
    # empirical 2-h glucose: FPG.exp(c0 + c1.(1 - B) + eta) (research note §5.3) [A]
    pg2h_ratio = np.exp(lat.pg2h_c0 + lat.pg2h_c1 * (1.0 - snap["b"]) + c.pg2h_eta[None])
    cp2h_ratio = np.exp(lat.cp2h_c0 + lat.cp2h_c1 * (1.0 - snap["b"]) + c.cp2h_eta[None])
    return {
        "fpg": snap["fpg"],
        "pg2h": snap["fpg"] * pg2h_ratio,
        "hba1c": snap["hba1c"],
        # measured insulin includes exogenous insulin via assay cross-reactivity (note §5.3)
        "fins": convert(fsi_endo + lat.insulin_cross_reactivity * x, "fins", "uU/mL", "pmol/L"),
        "fcp": fcp,
        "cp2h": fcp * cp2h_ratio,
        "weight": np.broadcast_to(c.weight, snap["fpg"].shape),
    }


def lab_truth(sim: SimulatedTrials, lab_index: int, lab: Lab) -> Array:
    """Latent lab value at each visit: baseline x S-link x MSC effect x infusion bump."""
    snap, c = sim.traj.snap, sim.cohort
    base = sim.design.baseline
    log_s = np.log(snap["s"] / snap["s"][base][None])
    responder = (c.emax_s > 0) | (c.emax_b > 0)
    msc = np.log1p(lab.msc_effect * snap["msc"] * responder[None])
    days = sim.traj.visit_day - sim.design.infusion_days[0]
    # transient rise after the first infusion, halving weekly (Lian 2022 L207-209 leukocytes)
    bump = np.log1p(lab.infusion_bump * np.where(days > 0, np.exp(-days * np.log(2) / 7), 0.0))
    log0 = lab_log0(lab, c.lab_z0[lab_index])
    return np.exp(log0[None] + lab.s_link * log_s + msc + bump)


def observe(sim: SimulatedTrials, rng: np.random.Generator) -> dict[str, Array]:
    """Measured values of every simulated analyte at every visit, (V, T, N)."""
    truth = glycaemic_truth(sim)
    shape = truth["fpg"].shape
    out = {
        k: v * noise(rng, GLYCAEMIC_CV[k].cvi, GLYCAEMIC_CV[k].cva, shape) for k, v in truth.items()
    }
    for i, lab in enumerate(sim.preset.labs):
        z = np.moveaxis(sim.cohort.lab_z[i], -1, 0)[: shape[0]]
        sd = np.sqrt(np.log1p(lab.cvi**2) + np.log1p(lab.cva**2))
        out[lab.analyte] = lab_truth(sim, i, lab) * np.exp(sd * z)
    return out
