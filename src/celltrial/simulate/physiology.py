"""Glucose-insulin-HbA1c physiology of a virtual patient (de Winter 2006 / Choy 2016 structure).

Fasting glucose and endogenous insulin are the closed-form quasi-steady state (QSS) of the
FPG-FSI homeostasis; HbA1c is a three-compartment transit chain driven by FPG. Every function is
elementwise on NumPy arrays of any shape (trials x patients in the simulator).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

# Kin/Kout of FSI: healthy FSI 7.8 uU/mL at FPG 4.5 mmol/L (Choy 2016 Table 1, fixed).
KFSI = 7.8
# Kin/Kout of FPG: 4.5 x 7.8 mmol/L.uU/mL (Choy 2016 Table 1, fixed).
KFPG = 35.1
# Glucose floor of insulin secretion, 3.5 mmol/L (Choy 2016 / HOMA1, Matthews 1985).
G_FLOOR = 3.5
# HbA1c input per mmol/L FPG, %/day (Choy 2016 Table 1).
KIN_HBA1C = 0.0129
# FPG-independent HbA1c input, %/day (Choy 2016 Table 1, "PPG").
PPG_HBA1C = 0.0709
# Mean transit time of the 3-compartment HbA1c chain, days (Choy 2016 Table 1).
MTT_HBA1C = 38.9


def logistic_fraction(logit: Array) -> Array:
    """Fraction of normal from Choy's logit scale: 1 / (1 + e^logit) (Choy 2016 eq. for B, S)."""
    return 1.0 / (1.0 + np.exp(logit))


def fpg_qss(b: Array, s: Array, x: Array | float = 0.0, kfpg: Array | float = KFPG) -> Array:
    """Fasting plasma glucose (mmol/L): positive root of S.(KFSI.B.(G - 3.5) + X).G = KFPG.

    b, s: effective beta-cell function and insulin sensitivity (fraction of normal);
    x: exogenous insulin in uU/mL-equivalents (research note §4.2, derived from Choy 2016).
    """
    a = s * b * KFSI
    lin = s * x - G_FLOOR * a
    return (-lin + np.sqrt(lin * lin + 4.0 * a * kfpg)) / (2.0 * a)


def fsi_endogenous(b: Array, fpg: Array) -> Array:
    """Endogenous fasting insulin (uU/mL) = KFSI.B.max(FPG - 3.5, 0) (Choy 2016 FSI QSS)."""
    return KFSI * b * np.maximum(fpg - G_FLOOR, 0.0)


def hba1c_input(fpg: Array, ppg: Array | float = PPG_HBA1C) -> Array:
    """Daily HbA1c production (%/day): kin.FPG + PPG (Choy 2016)."""
    return KIN_HBA1C * fpg + ppg


def hba1c_steady(fpg: Array, ppg: Array | float = PPG_HBA1C, mtt: float = MTT_HBA1C) -> Array:
    """Steady-state HbA1c (%) of the chain: (kin.FPG + PPG).MTT (Choy 2016 closed form)."""
    return hba1c_input(fpg, ppg) * mtt


def hba1c_chain_start(fpg: Array, ppg: Array | float = PPG_HBA1C, mtt: float = MTT_HBA1C) -> Array:
    """Chain compartments (3, ...) at steady state for the given FPG: each holds u.MTT/3."""
    each = hba1c_input(fpg, ppg) * (mtt / 3.0)
    return np.stack([each, each, each])


def hba1c_step(
    chain: Array, fpg: Array, ppg: Array | float = PPG_HBA1C, mtt: float = MTT_HBA1C
) -> Array:
    """Advance the chain (3, ...) by one day in place; returns it.

    Exact exponential update of each compartment with the upstream one held at its previous
    value (research note §5.4), k = 3/MTT (Choy 2016).
    """
    k = 3.0 / mtt
    ek = np.exp(-k)
    u = hba1c_input(fpg, ppg)
    a1, a2, a3 = chain[0], chain[1], chain[2]
    a3 *= ek
    a3 += a2 * (1.0 - ek)
    a2 *= ek
    a2 += a1 * (1.0 - ek)
    a1 *= ek
    a1 += u * ((1.0 - ek) / k)
    return chain


def hba1c_of(chain: Array) -> Array:
    """HbA1c (%) = A1 + A2 + A3 (Choy 2016)."""
    return chain[0] + chain[1] + chain[2]
