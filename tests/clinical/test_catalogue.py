import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.clinical import ANALYTES, UnknownAnalyteError, convert, get_analyte

PAIRS = [(a.id, u) for a in ANALYTES.values() for u in a.accepted_units()]


@pytest.mark.parametrize(("analyte", "unit"), PAIRS)
@settings(deadline=None)  # shared 2-core machine: timing is noisy
@given(x=st.floats(-1e6, 1e6, allow_nan=False))
def test_convert_roundtrips_every_analyte_and_unit(analyte, unit, x):
    canonical = get_analyte(analyte).unit
    back = convert(convert(x, analyte, unit, canonical), analyte, canonical, unit)
    assert back == pytest.approx(x, rel=1e-9, abs=1e-9)


def test_unknown_analyte_is_a_clear_error():
    with pytest.raises(UnknownAnalyteError, match="unknown analyte 'hba1'"):
        convert(1.0, "hba1", "%", "%")


def test_derived_analytes_are_catalogued():
    for a in ("homa1_ir", "homa1_b", "homa_cp_ir", "homa_cp_b", "eag", "hba1c_ifcc", "egfr"):
        assert get_analyte(a).kind == "derived"
    # LOINC 59261-8: HbA1c by IFCC protocol; 53553-4: eAG [Moles/volume] (loinc.org)
    assert get_analyte("hba1c_ifcc").loinc == "59261-8"
    assert get_analyte("eag").loinc == "53553-4"


def test_eag_accepts_mg_dl():
    # 154.2 mg/dL / 18.016 = 8.55905 mmol/L
    assert convert(154.2, "eag", "mg/dL", "mmol/L") == pytest.approx(8.55905, abs=1e-5)
    np.testing.assert_allclose(convert(np.array([18.016]), "eag", "mg/dL", "mmol/L"), [1.0])
