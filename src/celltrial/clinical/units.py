"""The one unit converter: every reader, form and simulator converts through here.

The catalogue (celltrial.clinical.analytes) names units by their UCUM case-sensitive codes
(`umol/L`, `10*9/L`, `u[IU]/mL`); laboratories print them otherwise (`µmol/L`, `×10^9/L`,
`µIU/mL`). UNIT_ALIASES, declared here once, says which printed spelling means which code;
readers match spellings case-insensitively after stripping surrounding blanks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from celltrial.clinical.analytes import get_analyte, to_canonical_factors

FloatOrArray = float | npt.NDArray[np.float64]

# Printed spelling -> UCUM case-sensitive code (UCUM 2.1, unitsofmeasure.org: "u" is the micro
# prefix of the c/s codes, "10*9" a power of ten, "[IU]" the international unit, "mm[Hg]",
# "[lb_av]", "[in_i]"; the spellings are the print symbols and common lab-report forms).
# Written here with the micro sign U+00B5 (µ); the Greek small mu U+03BC (μ), which keyboards
# also give and which upper-and-lower-casing turns a micro sign into, is accepted alike.
UNIT_ALIASES: dict[str, str] = {
    "µmol/L": "umol/L",
    "µg/L": "ug/L",
    "uIU/mL": "u[IU]/mL",
    "µIU/mL": "u[IU]/mL",
    "mIU/L": "m[IU]/L",
    "µU/mL": "uU/mL",
    "10^9/L": "10*9/L",
    "x10^9/L": "10*9/L",
    "×10^9/L": "10*9/L",
    "10⁹/L": "10*9/L",
    "×10⁹/L": "10*9/L",
    "10E9/L": "10*9/L",
    "10^3/uL": "10*3/uL",
    "10^3/µL": "10*3/uL",
    "x10^3/uL": "10*3/uL",
    "×10^3/µL": "10*3/uL",
    "10*3/µL": "10*3/uL",
    "/µL": "/uL",
    "cells/uL": "/uL",
    "cells/µL": "/uL",
    "IU/mL": "[IU]/mL",
    "kU/L": "k[U]/L",
    "mmHg": "mm[Hg]",
    "lb": "[lb_av]",
    "in": "[in_i]",
    "kg/m²": "kg/m2",
    "mL/min/1.73m2": "mL/min/{1.73_m2}",
    "mL/min/1.73 m2": "mL/min/{1.73_m2}",
    "mL/min/1.73 m²": "mL/min/{1.73_m2}",
}
MICRO_SIGN, GREEK_MU = "\u00b5", "\u03bc"
# Every accepted spelling: the aliases as written and with the Greek mu for the micro sign.
SPELLINGS: dict[str, str] = UNIT_ALIASES | {
    k.replace(MICRO_SIGN, GREEK_MU): v for k, v in UNIT_ALIASES.items() if MICRO_SIGN in k
}
_ALIAS_KEYS = {k.lower(): v for k, v in SPELLINGS.items()}


def ucum_code(unit: str) -> str:
    """The UCUM code a printed spelling stands for (the spelling itself when it is no alias)."""
    return _ALIAS_KEYS.get(unit.strip().lower(), unit)


def accepted_spellings(analyte: str) -> dict[str, str]:
    """Every spelling accepted for `analyte` -> its UCUM code: the catalogue's codes and the
    aliases of those codes; spellings that differ from a code only in case are left out (the
    readers match case-insensitively)."""
    codes = get_analyte(analyte).accepted_units()
    out = {code: code for code in codes}
    keys = {code.lower() for code in codes}
    for spelling, code in SPELLINGS.items():  # a few dozen aliases, not data rows
        if code in out and spelling.lower() not in keys:
            out[spelling] = code
            keys.add(spelling.lower())
    return out


def as_float_or_array(value: npt.ArrayLike) -> FloatOrArray:
    """A 0-d result as a Python float, anything else as a float64 array: scalars in, scalar out."""
    out = np.asarray(value, dtype=float)
    return float(out) if out.ndim == 0 else out


def convert(value: FloatOrArray, analyte: str, from_unit: str, to_unit: str) -> FloatOrArray:
    """Convert `value` of `analyte` from one accepted unit (or an alias of one) to another
    (affine, via canonical)."""
    src = to_canonical_factors(analyte, ucum_code(from_unit))
    dst = to_canonical_factors(analyte, ucum_code(to_unit))
    canonical = np.asarray(value, dtype=float) * src.factor + src.offset
    return as_float_or_array((canonical - dst.offset) / dst.factor)
