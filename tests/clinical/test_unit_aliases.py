"""Unit spellings as laboratories print them (µmol/L, ×10^9/L, µIU/mL), read as the catalogue's
UCUM codes; conversions checked by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.clinical.analytes import ANALYTES
from celltrial.clinical.units import SPELLINGS, UNIT_ALIASES, accepted_spellings, convert, ucum_code
from celltrial.data import read_study, validate


@pytest.mark.parametrize(
    ("value", "analyte", "unit", "expected"),
    [
        (88.4, "creatinine", "µmol/L", 88.4),  # micro sign U+00B5: canonical umol/L
        (88.4, "creatinine", "μmol/L", 88.4),  # Greek mu U+03BC
        (10.0, "fins", "uIU/mL", 60.0),  # 10 uIU/mL x 6.00 pmol/L per uIU/mL (Heinemann 2010)
        (10.0, "fins", "µIU/mL", 60.0),
        (7.5, "fins", "mIU/L", 45.0),  # 1 mIU/L = 1 uIU/mL = 6.00 pmol/L: 7.5 x 6 = 45
        (6.5, "leukocytes", "10^9/L", 6.5),
        (6.5, "leukocytes", "x10^9/L", 6.5),
        (6.5, "leukocytes", "×10⁹/L", 6.5),
        (6.5, "leukocytes", "10*9/L", 6.5),
        (6.5, "leukocytes", "10^3/µL", 6.5),  # 10^3 per 1e-6 L = 10^9 per L
        (6500.0, "leukocytes", "cells/µL", 6.5),  # 6500 per 1e-6 L = 6.5e9 per L
        (2.0, "afp", "IU/mL", 2.42),  # 1 IU AFP = 1.21 ng (WHO IS 72/225): 2 x 1.21
    ],
)
def test_aliases_convert_as_their_code(value, analyte, unit, expected):
    canonical = ANALYTES[analyte].unit
    assert convert(value, analyte, unit, canonical) == pytest.approx(expected)


def test_no_alias_shadows_another_unit_of_an_analyte():
    # matching is case-insensitive: an alias must not read as a different accepted code
    for analyte in ANALYTES:
        codes = {c.lower(): c for c in ANALYTES[analyte].accepted_units()}
        for spelling, code in SPELLINGS.items():
            assert codes.get(spelling.lower(), code) == code, (analyte, spelling)
    assert accepted_spellings("creatinine")["μmol/L"] == "umol/L"
    assert "µmol/L" not in accepted_spellings("fpg")  # only aliases of the analyte's codes


@settings(deadline=None)  # the first call compiles Polars expressions
@given(st.sampled_from(sorted(SPELLINGS)), st.booleans())
def test_alias_case_and_blanks_do_not_matter(spelling, upper):
    # upper-casing a micro sign gives a Greek capital mu, lower-casing that a Greek small mu
    typed = f"  {spelling.upper() if upper else spelling.lower()} "
    assert ucum_code(typed) == SPELLINGS[spelling]
    assert SPELLINGS["μmol/L"] == UNIT_ALIASES["µmol/L"] == "umol/L"


def test_a_study_read_with_printed_units_is_stored_canonical(tmp_path):
    (tmp_path / "study.yaml").write_text("study_id: t\n")
    (tmp_path / "participants.csv").write_text(
        "participant_id,site_id,sex,enrollment_date\nP01,S1,M,2019-03-01\n"
    )
    rows = [
        "P01,2019-03-04 07:30,creatinine,88.4,µmol/L",
        "P01,2019-03-04 07:31,creatinine,70,μmol/l",
        "P01,2019-03-04 07:32,leukocytes,6.5,×10^9/L",
        "P01,2019-03-04 07:33,leukocytes,5200,cells/µL",
        "P01,2019-03-04 07:34,fins,12,uIU/mL",
    ]
    (tmp_path / "measurements.csv").write_text(
        "participant_id,time,analyte,value,unit\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    study = read_study(tmp_path)
    m = study.measurements.sort("time")
    assert m["value"].to_list() == pytest.approx([88.4, 70.0, 6.5, 5.2, 72.0])  # 12 x 6.00
    assert m["unit"].to_list() == ["umol/L", "umol/L", "10*9/L", "10*9/L", "pmol/L"]
    assert m["unit_as_entered"].to_list()[0] == "µmol/L"  # kept as typed
    assert not [f for f in validate(study) if f.column in ("unit", "unit_as_entered")]
