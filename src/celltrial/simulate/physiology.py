"""Glucose-insulin-HbA1c physiology of a virtual patient (de Winter 2006 / Choy 2016 structure).

Fasting glucose and endogenous insulin are the closed-form quasi-steady state (QSS) of the
FPG-FSI homeostasis; HbA1c is a three-compartment transit chain driven by FPG. Every function is
elementwise on NumPy arrays of any shape (trials x patients in the simulator).
"""

from __future__ import annotations

import math

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


def fpg_qss(
    b: Array,
    s: Array,
    x: Array | float = 0.0,
    kfpg: Array | float = KFPG,
    out: Array | None = None,
    work: tuple[Array, Array] | None = None,
) -> Array:
    """Fasting plasma glucose (mmol/L): positive root of S.(KFSI.B.(G - 3.5) + X).G = KFPG.

    b, s: effective beta-cell function and insulin sensitivity (fraction of normal);
    x: exogenous insulin in uU/mL-equivalents (research note §4.2, derived from Choy 2016).
    With a = S.KFSI.B and l = S.X - 3.5.a the root (-l + sqrt(l^2 + 4.a.KFPG)) / 2a is
    written as 2.KFPG / (sqrt(l^2 + 4.a.KFPG) + l) (same value, no division by a).
    out, work: optional preallocated arrays of the result's shape and dtype; the simulator's
    daily loop passes them so that a day allocates nothing.
    """
    if out is None or work is None:
        shape = np.broadcast_shapes(np.shape(b), np.shape(s), np.shape(x), np.shape(kfpg))
        dtype = np.result_type(b, s, x, kfpg, np.float32)
        out = np.empty(shape, dtype) if out is None else out
        work = (np.empty(shape, dtype), np.empty(shape, dtype))
    a, lin = work
    np.multiply(s, b, out=a)  # S.B
    np.multiply(s, x, out=lin)
    np.multiply(a, G_FLOOR * KFSI, out=out)
    lin -= out  # l = S.X - 3.5.KFSI.S.B
    a *= kfpg
    a *= 4.0 * KFSI  # 4.a.KFPG
    np.multiply(lin, lin, out=out)
    out += a
    np.sqrt(out, out=out)
    out += lin
    np.divide(2.0 * kfpg, out, out=out)
    return out[()] if out.ndim == 0 else out


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
    chain: Array,
    fpg: Array,
    ppg: Array | float = PPG_HBA1C,
    mtt: float = MTT_HBA1C,
    work: Array | None = None,
) -> Array:
    """Advance the chain (3, ...) by one day in place; returns it.

    Exact exponential update of each compartment with the upstream one held at its previous
    value (research note §5.4), k = 3/MTT (Choy 2016): A <- A.e^-k + upstream.(1 - e^-k),
    written A += (upstream - A).(1 - e^-k); the first compartment's upstream is u/k with
    u = kin.FPG + PPG. work: optional scratch array of the compartment shape.
    """
    k = 3.0 / mtt
    ek = math.exp(-k)  # a Python float keeps float32 arrays in float32
    c = 1.0 - ek
    a1, a2, a3 = chain[0], chain[1], chain[2]
    tmp = np.empty_like(a1) if work is None else work
    np.subtract(a2, a3, out=tmp)
    tmp *= c
    a3 += tmp
    np.subtract(a1, a2, out=tmp)
    tmp *= c
    a2 += tmp
    np.multiply(fpg, KIN_HBA1C, out=tmp)
    tmp += ppg
    tmp *= c / k
    a1 *= ek
    a1 += tmp
    return chain


def hba1c_of(chain: Array) -> Array:
    """HbA1c (%) = A1 + A2 + A3 (Choy 2016)."""
    return chain[0] + chain[1] + chain[2]
