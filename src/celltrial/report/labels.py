"""What a reader sees instead of ids: analyte names with display units, short visit names.

The catalogue keeps UCUM codes (`10*9/L`, `mm[Hg]`); tables and figures show the units as a
journal prints them. This is the one display-unit mapping of the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from celltrial.clinical.analytes import ANALYTES

# UCUM code (celltrial.clinical.analytes canonical units) -> unit as printed (SI brochure style:
# µ for micro, superscript powers, × for the power of ten, mmHg for mm[Hg]).
DISPLAY_UNITS = {
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "10*9/L": "×10⁹/L",
    "10*12/L": "×10¹²/L",
    "umol/L": "µmol/L",
    "uIU/mL": "µIU/mL",
    "kg/m2": "kg/m²",
    "mm[Hg]": "mmHg",
    "[IU]/mL": "IU/mL",
    "[IU]/L": "IU/L",
    "1": "",  # dimensionless (HOMA-IR): no unit printed
}
# Labels of the derived indices that are not catalogue analytes, and of covariates.
DERIVED_LABELS = {
    "homa_ir_cp": "HOMA-IR (C-peptide)",
    "homa_b_cp": "HOMA-B (C-peptide), %",
    "homa_ir": "HOMA-IR",
    "homa_b": "HOMA-B, %",
}
COVARIATE_LABELS = {
    "age": "Age, years",
    "diabetes_duration_years": "Duration of diabetes, years",
    "height_cm": "Height, cm",
}


def display_unit(ucum: str) -> str:
    """The unit as a journal prints it (the UCUM code itself when it needs no change)."""
    return DISPLAY_UNITS.get(ucum, ucum)


def label(analyte: str) -> str:
    """Readable name with display unit ("Serum creatinine, µmol/L"), or a covariate label."""
    if analyte in ANALYTES:
        a = ANALYTES[analyte]
        unit = display_unit(a.unit)
        return f"{a.name}, {unit}" if unit else a.name
    return DERIVED_LABELS.get(analyte, COVARIATE_LABELS.get(analyte, analyte))


def visit_names(visits: Sequence[str], labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """Short visit names from the protocol's labels ("Day 14", "6 months", "Baseline": the
    label before any parenthesis), the visit id where the protocol gives no label."""
    labels = labels or {}
    out = {}
    for v in visits:  # one step per visit of the schedule
        short = labels.get(v, "").split(" (")[0].strip()
        out[v] = short or v
    return out
