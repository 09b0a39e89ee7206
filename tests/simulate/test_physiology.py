"""Physiology core against hand-solved equations and the Choy 2016 vignette values."""

import numpy as np
from scipy.optimize import brentq

from celltrial.simulate.physiology import (
    KFPG,
    KFSI,
    fpg_qss,
    fsi_endogenous,
    hba1c_chain_start,
    hba1c_of,
    hba1c_steady,
    hba1c_step,
    logistic_fraction,
)


def test_qss_choy_typical_values():
    # nlmixr2lib Choy_2016 vignette (research note §1.3): FPG_ss 7.4611, FSI_ss 18.837.
    b, s = logistic_fraction(np.array(-0.446)), logistic_fraction(np.array(1.1))
    g = fpg_qss(b, s)
    assert abs(g - 7.4611) < 5e-3
    assert abs(fsi_endogenous(b, g) - 18.837) < 2e-2


def test_qss_solves_its_equation_by_hand():
    # B = 0.3, S = 0.25, X = 10: a = 0.585, b = 2.5 - 2.0475 = 0.4525,
    # disc = 0.20476 + 82.134 = 82.3388, sqrt = 9.07407,
    # G = (-0.4525 + 9.07407) / 1.17 = 7.3689 (by hand)
    g = fpg_qss(np.array(0.3), np.array(0.25), 10.0)
    assert abs(g - 7.3689) < 1e-3
    # and it is the root found by a bracketing solver of S.(KFSI.B.(G-3.5) + X).G - KFPG
    root = brentq(lambda x: 0.25 * (KFSI * 0.3 * (x - 3.5) + 10.0) * x - KFPG, 3.6, 30)
    assert abs(g - root) < 1e-9


def test_homa_identity_at_qss():
    # research note §1.3 [D]: HOMA1-IR = FPG.FSI/22.5 = 1.56/S exactly at QSS without insulin
    s = np.array([0.2, 0.5, 0.9])
    b = np.array([0.1, 0.4, 0.8])
    g = fpg_qss(b, s)
    assert np.allclose(g * fsi_endogenous(b, g) / 22.5, KFPG / 22.5 / s)


def test_hba1c_chain_steady_state_is_closed_form():
    fpg = np.array([6.0, 9.0, 12.0])
    chain = hba1c_chain_start(fpg, 0.0709)
    for _ in range(200):
        hba1c_step(chain, fpg, 0.0709)
    # Choy 2016: HbA1c_ss = (0.0129.FPG + 0.0709).38.9; FPG 9 -> (0.1161+0.0709)*38.9 = 7.2743
    assert np.allclose(hba1c_of(chain), hba1c_steady(fpg, 0.0709))
    assert abs(hba1c_of(chain)[1] - 7.27430) < 1e-4


def test_hba1c_chain_approaches_new_steady_state():
    chain = hba1c_chain_start(np.array([10.0]), 0.0709)
    for _ in range(400):
        hba1c_step(chain, np.array([7.0]), 0.0709)
    assert abs(hba1c_of(chain)[0] - (0.0129 * 7.0 + 0.0709) * 38.9) < 1e-3
