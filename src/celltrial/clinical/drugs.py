"""Antidiabetic drugs: WHO ATC code, INN, class, defined daily dose (DDD) and usual daily dose
range, for dose normalisation (sum of dose/DDD) and titration.

DDDs: WHO Collaborating Centre for Drug Statistics Methodology, ATC/DDD Index, group A10
(https://www.whocc.no/atc_ddd_index/?code=A10), as collected in
../shared/research/simulation-models.md section 4.5; entries marked [P*] there are quoted
from secondary sources and must be checked against the current index before a study freezes.
Daily dose ranges: the product label (US prescribing information or EU SmPC) named per drug.
Once-weekly drugs are recorded as daily doses (weekly dose / 7), like their DDD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from celltrial.clinical.units import FloatOrArray, as_float_or_array

DrugClass = Literal[
    "metformin", "sulfonylurea", "glinide", "dpp4", "glp1", "sglt2", "tzd", "agi", "insulin"
]

# Dose units accepted, as multiples of the DDD unit family (mass in mg, insulin in U).
_MASS_MG = {"mg": 1.0, "g": 1000.0, "ug": 1e-3, "mcg": 1e-3}
_INSULIN_U = {"U": 1.0, "[IU]": 1.0, "IU": 1.0, "[U]": 1.0}
INSULIN_DOSE_UNITS = tuple(_INSULIN_U)


@dataclass(frozen=True)
class Drug:
    atc: str
    inn: str
    drug_class: DrugClass
    ddd: float
    ddd_unit: str  # "mg" or "U"
    route: Literal["O", "P"]  # WHOCC route: oral, parenteral
    min_daily: float | None  # usual lowest daily dose, in ddd_unit
    max_daily: float | None  # maximum labelled daily dose, in ddd_unit
    dose_source: str = ""
    aliases: tuple[str, ...] = ()


def _d(atc, inn, cls, ddd, route, lo, hi, src, unit="mg", aliases=()) -> Drug:
    return Drug(atc, inn, cls, ddd, unit, route, lo, hi, src, tuple(aliases))


# WHOCC DDD for every insulin is 40 U (ATC/DDD Index A10A); insulins have no label maximum.
INSULIN_DDD_U = 40.0

_DRUG_LIST: tuple[Drug, ...] = (
    _d("A10BA02", "metformin", "metformin", 2000, "O", 500, 2550, "Glucophage USPI 2018"),
    _d(
        "A10BB01",
        "glibenclamide",
        "sulfonylurea",
        10,
        "O",
        1.25,
        20,
        "Diabeta USPI",
        aliases=("glyburide",),
    ),
    _d("A10BB07", "glipizide", "sulfonylurea", 10, "O", 2.5, 40, "Glucotrol USPI"),
    _d("A10BB08", "gliquidone", "sulfonylurea", 60, "O", 15, 180, "Glurenorm SmPC"),
    # WHOCC DDD 60 mg refers to the modified-release tablet; doses are MR doses.
    _d("A10BB09", "gliclazide", "sulfonylurea", 60, "O", 30, 120, "Diamicron MR SmPC"),
    _d("A10BB12", "glimepiride", "sulfonylurea", 2, "O", 1, 8, "Amaryl USPI"),
    _d("A10BF01", "acarbose", "agi", 300, "O", 75, 300, "Precose USPI"),
    _d("A10BF03", "voglibose", "agi", 0.6, "O", 0.6, 0.9, "Basen package insert (Japan)"),
    _d("A10BG02", "rosiglitazone", "tzd", 6, "O", 4, 8, "Avandia USPI"),
    _d("A10BG03", "pioglitazone", "tzd", 30, "O", 15, 45, "Actos USPI"),
    _d("A10BH01", "sitagliptin", "dpp4", 100, "O", 25, 100, "Januvia USPI (25 mg: renal)"),
    _d("A10BH02", "vildagliptin", "dpp4", 100, "O", 50, 100, "Galvus SmPC"),
    _d("A10BH03", "saxagliptin", "dpp4", 5, "O", 2.5, 5, "Onglyza USPI"),
    _d("A10BH04", "alogliptin", "dpp4", 25, "O", 6.25, 25, "Nesina USPI (6.25 mg: renal)"),
    _d("A10BH05", "linagliptin", "dpp4", 5, "O", 5, 5, "Tradjenta USPI"),
    _d("A10BJ01", "exenatide", "glp1", 0.015, "P", 0.010, 0.020, "Byetta USPI"),
    _d("A10BJ02", "liraglutide", "glp1", 1.5, "P", 0.6, 1.8, "Victoza USPI"),
    _d("A10BJ03", "lixisenatide", "glp1", 0.020, "P", 0.010, 0.020, "Adlyxin USPI"),
    # Weekly 0.75-4.5 mg (Trulicity USPI), as daily doses.
    _d("A10BJ05", "dulaglutide", "glp1", 0.16, "P", 0.75 / 7, 4.5 / 7, "Trulicity USPI"),
    # Weekly 0.25-2 mg s.c. (Ozempic USPI), as daily doses; oral semaglutide not catalogued.
    _d("A10BJ06", "semaglutide", "glp1", 0.11, "P", 0.25 / 7, 2.0 / 7, "Ozempic USPI"),
    _d("A10BK01", "dapagliflozin", "sglt2", 10, "O", 5, 10, "Farxiga USPI"),
    _d("A10BK02", "canagliflozin", "sglt2", 200, "O", 100, 300, "Invokana USPI"),
    _d("A10BK03", "empagliflozin", "sglt2", 17.5, "O", 10, 25, "Jardiance USPI"),
    # Repaglinide 0.5 mg with each of 3 meals up to 16 mg/day (Prandin USPI).
    _d("A10BX02", "repaglinide", "glinide", 4, "O", 1.5, 16, "Prandin USPI"),
    _d("A10BX03", "nateglinide", "glinide", 360, "O", 180, 360, "Starlix USPI"),
    *(
        _d(atc, inn, "insulin", INSULIN_DDD_U, "P", None, None, "WHOCC A10A", "U", al)
        for atc, inn, al in (
            ("A10AB01", "insulin (human)", ("regular insulin", "insulin regular")),
            ("A10AB04", "insulin lispro", ()),
            ("A10AB05", "insulin aspart", ()),
            ("A10AB06", "insulin glulisine", ()),
            ("A10AC01", "insulin isophane (human)", ("nph insulin", "insulin nph")),
            ("A10AD01", "insulin (human) premixed", ("premixed human insulin",)),
            ("A10AD05", "insulin aspart premixed", ("biphasic insulin aspart",)),
            ("A10AE04", "insulin glargine", ()),
            ("A10AE05", "insulin detemir", ()),
            ("A10AE06", "insulin degludec", ()),
        )
    ),
)

DRUGS: dict[str, Drug] = {d.inn: d for d in _DRUG_LIST}
_LOOKUP: dict[str, Drug] = {
    key.lower(): d for d in _DRUG_LIST for key in (d.inn, d.atc, *d.aliases)
}


class UnknownDrugError(KeyError):
    def __init__(self, drug: str) -> None:
        super().__init__(drug)
        self.drug = drug

    def __str__(self) -> str:
        return f"unknown drug {self.drug!r}: give an INN or ATC code of {', '.join(DRUGS)}"


class DoseUnitError(ValueError):
    def __init__(self, drug: Drug, unit: str) -> None:
        ok = ", ".join(_units_for(drug))
        super().__init__(f"dose unit {unit!r} does not fit {drug.inn}; accepted: {ok}")


def get_drug(name_or_atc: str) -> Drug:
    """A catalogue drug by INN, alias or ATC code (case-insensitive)."""
    try:
        return _LOOKUP[name_or_atc.strip().lower()]
    except KeyError:
        raise UnknownDrugError(name_or_atc) from None


# WHO ATC/DDD Index: A10A "insulins and analogues" (every other A10 drug is A10B, "blood
# glucose lowering drugs, excl. insulins"). The one definition of insulin in CellTrial.
INSULIN_ATC = "A10A"


def is_insulin(atc_code: str) -> bool:
    """WHO ATC A10A: insulins and analogues."""
    return atc_code.strip().upper().startswith(INSULIN_ATC)


def atc_code_expr(atc: str = "atc_code", drug: str = "drug") -> pl.Expr:
    """A medication row's ATC code: as recorded, else the catalogue's code for its drug name
    (INN or alias, case-insensitive), else null."""
    names = {key: d.atc for key, d in _LOOKUP.items()}
    by_name = pl.col(drug).str.strip_chars().str.to_lowercase().replace_strict(names, default=None)
    recorded = pl.col(atc).str.strip_chars().str.to_uppercase()
    return pl.coalesce(pl.when(recorded != "").then(recorded), by_name)


def insulin_expr(atc: str = "atc_code", drug: str = "drug") -> pl.Expr:
    """True for an insulin prescription: its ATC code (atc_code_expr) is in A10A; False when
    neither the code nor the catalogue knows the drug."""
    return atc_code_expr(atc, drug).str.starts_with(INSULIN_ATC).fill_null(False)


def taken_between(first: pl.Expr, last: pl.Expr) -> pl.Expr:
    """A medication row was taken on some day from `first` to `last` (both inclusive).

    The medications table's convention (README "A study on disk"; CDISC SDTM CMENDTC): the drug is
    taken on day d iff start_date <= d <= end_date; end_date is the LAST day taken, and an
    empty end_date means ongoing. Null when start_date is missing (the data cannot tell)."""
    ended_before = pl.col("end_date").is_not_null() & (pl.col("end_date") < first)
    # an end before the start is an empty period (validate reports it as dates out of order)
    empty = pl.col("end_date").is_not_null() & (pl.col("end_date") < pl.col("start_date"))
    return (pl.col("start_date") <= last) & ~ended_before & ~empty.fill_null(False)


def taken_on(day: pl.Expr) -> pl.Expr:
    """A medication row was taken on `day` (taken_between(day, day))."""
    return taken_between(day, day)


def _units_for(drug: Drug) -> dict[str, float]:
    return _INSULIN_U if drug.ddd_unit == "U" else _MASS_MG


def _to_ddd_unit(drug: Drug, unit: str) -> float:
    try:
        return _units_for(drug)[unit]
    except KeyError:
        raise DoseUnitError(drug, unit) from None


def fraction_of_ddd(
    drug: str | npt.ArrayLike, daily_dose: FloatOrArray, unit: str | npt.ArrayLike
) -> FloatOrArray:
    """daily dose / DDD (WHOCC), the dose-normalised amount summed across drugs.

    drug and unit may be single strings or arrays matching daily_dose; the catalogue is looked
    up once per distinct (drug, unit) pair, never per row."""
    names, units = np.broadcast_arrays(np.asarray(drug, dtype=str), np.asarray(unit, dtype=str))
    pairs = np.char.add(np.char.add(names, "\x1f"), units)
    uniq, inverse = np.unique(pairs, return_inverse=True)
    per_ddd = np.empty(len(uniq))
    for i, pair in enumerate(uniq):  # one step per distinct drug and unit
        name, u = str(pair).split("\x1f")
        d = get_drug(name)
        per_ddd[i] = _to_ddd_unit(d, u) / d.ddd
    factor = per_ddd[inverse].reshape(names.shape)
    return as_float_or_array(np.asarray(daily_dose, dtype=float) * factor)


def fraction_of_max_dose(drug: str, daily_dose: FloatOrArray, unit: str) -> FloatOrArray:
    """daily dose / maximum labelled daily dose; NaN for drugs without a maximum (insulins)."""
    d = get_drug(drug)
    if d.max_daily is None:
        return as_float_or_array(np.full(np.shape(daily_dose), np.nan))
    dose = np.asarray(daily_dose, dtype=float) * _to_ddd_unit(d, unit)
    return as_float_or_array(dose / d.max_daily)


# ATC codes outside a group that also deliver a drug of the group, so a rule on the group (an
# exclusion by ATC prefix) catches them too: fixed combinations, and for the thiazides the
# thiazide-like diuretics, whose effect on glucose is the same. Codes: WHO ATC/DDD Index
# (https://www.whocc.no/atc_ddd_index/), groups A10BD, C03, C07, C09, H02B, N06C. A key is
# reached by a prefix naming it or a group above it (atc_with_extensions).
ATC_EXTENSIONS: dict[str, tuple[str, ...]] = {
    # thiazides, plain
    "C03AA": (
        "C03AB",  # thiazides and potassium in combination
        "C03AH",  # thiazides, combinations with psycholeptics and/or analgesics
        "C03AX",  # thiazides, combinations with other drugs
        "C03BA",  # sulfonamides, plain: thiazide-like (chlortalidone, indapamide)
        "C03EA",  # low-ceiling diuretics and potassium-sparing agents
        "C07B",  # beta blocking agents and thiazides
        "C07D",  # beta blocking agents, thiazides and other diuretics
        "C09BA",  # ACE inhibitors and diuretics
        "C09DA",  # angiotensin II receptor blockers (ARBs) and diuretics
        "C09DX01",  # valsartan, amlodipine and hydrochlorothiazide
        "C09DX03",  # olmesartan medoxomil, amlodipine and hydrochlorothiazide
    ),
    "A10BG02": ("A10BD03", "A10BD04"),  # rosiglitazone with metformin; with glimepiride
    # pioglitazone with metformin; glimepiride; alogliptin; sitagliptin
    "A10BG03": ("A10BD05", "A10BD06", "A10BD09", "A10BD12"),
    "H02AB": ("H02BX",),  # glucocorticoids: corticosteroids for systemic use, combinations
    # non-selective monoamine reuptake inhibitors (tricyclics): amitriptyline and psycholeptics,
    # melitracen and psycholeptics
    "N06AA": ("N06CA01", "N06CA02"),
}


def atc_with_extensions(prefixes: list[str] | tuple[str, ...]) -> list[str]:
    """The ATC prefixes plus the codes of ATC_EXTENSIONS for every group they name or contain
    (A10BG reaches both glitazones' combinations, A10BG03 only pioglitazone's); in order,
    without repeats."""
    wanted = [p.strip().upper() for p in prefixes]
    extra = [
        code
        for key, codes in ATC_EXTENSIONS.items()
        if any(key.startswith(p) for p in wanted)
        for code in codes
    ]
    return list(dict.fromkeys([*wanted, *extra]))
