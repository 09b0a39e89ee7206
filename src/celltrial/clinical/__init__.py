"""Pure clinical knowledge: the analyte catalogue, units, derived indices and categories,
the antidiabetic drug catalogue, and the same derivations for whole StudyData tables
(derive_*, from celltrial.clinical.derivations)."""

from celltrial.clinical.analytes import (
    ANALYTES,
    Analyte,
    UnknownAnalyteError,
    UnknownUnitError,
    get_analyte,
)
from celltrial.clinical.bmi import bmi
from celltrial.clinical.derivations import (
    Derived,
    ckd_stage_expr,
    clinical_expr,
    derive_bmi,
    derive_ckd_stage,
    derive_dose_per_kg,
    derive_eag,
    derive_egfr,
    derive_hba1c_ifcc,
    derive_homa1,
    derive_homa_cp,
    derive_insulin_u_per_kg,
    derive_study,
)
from celltrial.clinical.dosing import dose_cells_per_kg, insulin_u_per_kg
from celltrial.clinical.drugs import (
    DRUGS,
    DoseUnitError,
    Drug,
    UnknownDrugError,
    fraction_of_ddd,
    fraction_of_max_dose,
    get_drug,
)
from celltrial.clinical.egfr import InvalidSexError, ckd_stage, egfr_ckd_epi_2021
from celltrial.clinical.hba1c import eag_mg_dl, eag_mmol_l, hba1c_ifcc
from celltrial.clinical.homa import homa1_b, homa1_ir, homa_cp_b, homa_cp_ir
from celltrial.clinical.hypoglycemia import hypoglycemia_level
from celltrial.clinical.units import convert

__all__ = [
    "ANALYTES",
    "DRUGS",
    "Analyte",
    "Derived",
    "DoseUnitError",
    "Drug",
    "InvalidSexError",
    "UnknownAnalyteError",
    "UnknownDrugError",
    "UnknownUnitError",
    "bmi",
    "ckd_stage",
    "ckd_stage_expr",
    "clinical_expr",
    "convert",
    "derive_bmi",
    "derive_ckd_stage",
    "derive_dose_per_kg",
    "derive_eag",
    "derive_egfr",
    "derive_hba1c_ifcc",
    "derive_homa1",
    "derive_homa_cp",
    "derive_insulin_u_per_kg",
    "derive_study",
    "dose_cells_per_kg",
    "eag_mg_dl",
    "eag_mmol_l",
    "egfr_ckd_epi_2021",
    "fraction_of_ddd",
    "fraction_of_max_dose",
    "get_analyte",
    "get_drug",
    "hba1c_ifcc",
    "homa1_b",
    "homa1_ir",
    "homa_cp_b",
    "homa_cp_ir",
    "hypoglycemia_level",
    "insulin_u_per_kg",
]
