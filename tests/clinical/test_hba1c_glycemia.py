import numpy as np
import pytest

from celltrial.clinical import eag_mg_dl, eag_mmol_l, hba1c_ifcc, hypoglycemia_level


def test_adag_7_percent():
    # Nathan 2008 table: HbA1c 7 % -> eAG 154 mg/dL (28.7 x 7 - 46.7 = 154.2), 8.6 mmol/L
    assert eag_mg_dl(7.0) == pytest.approx(154.2)
    assert eag_mmol_l(7.0) == pytest.approx(8.6, abs=0.05)
    # exact through glucose M 180.16 g/mol: 154.2 / 18.016 = 8.55905
    assert eag_mmol_l(7.0) == pytest.approx(8.55905, abs=1e-5)


def test_adag_table_rows():
    # Nathan 2008 table 1: 6 % -> 126 mg/dL (7.0 mmol/L), 9 % -> 212 mg/dL (11.8 mmol/L)
    np.testing.assert_allclose(eag_mg_dl(np.array([6.0, 9.0])), [125.5, 211.6])
    # the table's mmol/L column divides by 18 and rounds (212 / 18 = 11.78); the paper's own
    # mmol/L line 1.59 x A1c - 2.59 gives 6.95 and 11.72: agreement within 0.1 mmol/L
    np.testing.assert_allclose(eag_mmol_l(np.array([6.0, 9.0])), [7.0, 11.8], atol=0.1)
    np.testing.assert_allclose(eag_mmol_l(np.array([6.0, 9.0])), [6.95, 11.72], atol=0.03)


def test_ifcc_from_ngsp():
    # IFCC/NGSP table (ngsp.org): 7.0 % = 53 mmol/mol, 6.5 % = 48, 8.0 % = 64;
    # by hand (7.0 - 2.152) / 0.09148 = 52.995
    assert hba1c_ifcc(7.0) == pytest.approx(52.995, abs=1e-3)
    np.testing.assert_allclose(hba1c_ifcc(np.array([6.5, 8.0])), [48, 64], atol=0.5)


@pytest.mark.parametrize(
    ("glucose", "level"),
    # ADA 2024 table 6.4: level 1 [3.0, 3.9), level 2 < 3.0
    [(5.0, 0), (3.9, 0), (3.89, 1), (3.0, 1), (2.99, 2), (1.5, 2)],
)
def test_hypoglycemia_levels(glucose, level):
    assert hypoglycemia_level(glucose) == level


def test_level_3_is_clinical_whatever_the_glucose():
    assert hypoglycemia_level(4.5, severe=True) == 3
    out = hypoglycemia_level(np.array([2.5, np.nan, np.nan]), severe=np.array([1, 1, 0]))
    np.testing.assert_array_equal(out, [3.0, 3.0, np.nan])
