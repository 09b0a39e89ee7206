import numpy as np
import pytest

from celltrial.clinical.analytes import UnknownUnitError
from celltrial.clinical.units import convert


def test_glucose_mg_dl_to_mmol_l():
    # 126 mg/dL / 18.016 = 6.99378 mmol/L (glucose M 180.16 g/mol), solved by hand
    assert convert(126.0, "fpg", "mg/dL", "mmol/L") == pytest.approx(6.99378, abs=1e-5)


def test_hba1c_ifcc_to_ngsp_master_equation():
    # 53 mmol/mol * 0.09148 + 2.152 = 7.00044 % (Hoelzel 2004 master equation)
    assert convert(53.0, "hba1c", "mmol/mol", "%") == pytest.approx(7.00044)
    # inverse: (8.0 - 2.152) / 0.09148 = 63.926 mmol/mol
    assert convert(8.0, "hba1c", "%", "mmol/mol") == pytest.approx(63.9266, abs=1e-4)


def test_convert_arrays_roundtrip():
    x = np.array([1.0, 2.5, 10.0])
    back = convert(convert(x, "fcp", "ng/mL", "pmol/L"), "fcp", "pmol/L", "ng/mL")
    np.testing.assert_allclose(back, x)


def test_unknown_unit_is_a_clear_error():
    with pytest.raises(UnknownUnitError, match="'mg' is not accepted for fpg"):
        convert(1.0, "fpg", "mg", "mmol/L")
