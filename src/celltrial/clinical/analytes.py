"""The analyte catalogue: what CellTrial measures, its LOINC code, canonical UCUM unit,
the units accepted on entry with their conversions, and the ranges that make a value
impossible (error) or implausible (warning).

Canonical units follow ../shared/DESIGN.md ("StudyData: canonical units").
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UnitConversion:
    """canonical = value * factor + offset."""

    factor: float
    offset: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class Analyte:
    id: str
    name: str
    loinc: str
    unit: str  # canonical UCUM unit
    units: dict[str, UnitConversion] = field(default_factory=dict)
    possible: tuple[float, float] = (0.0, float("inf"))  # outside: error
    plausible: tuple[float, float] = (0.0, float("inf"))  # outside: warning
    kind: str = "lab"  # lab | vital | anthropometric | derived | serology | question
    # "M" or "F": measured and analysed in that sex only (summaries, tests, missing counts)
    sex: str | None = None

    def accepted_units(self) -> list[str]:
        return [self.unit, *self.units]


_SAME = UnitConversion(1.0, source="identity")

# Glucose molar mass 180.16 g/mol: 1 mmol/L = 18.016 mg/dL (IUPAC atomic weights).
_GLUCOSE = {
    "mg/dL": UnitConversion(1 / 18.016, source="glucose M = 180.16 g/mol"),
    "g/L": UnitConversion(10 / 1.8016, source="glucose M = 180.16 g/mol"),
}
# Insulin: 1 uIU/mL = 6.00 pmol/L (Heinemann L, Diabetes Care 2010;33:e83; Volund A 1993).
_INSULIN = {
    "u[IU]/mL": UnitConversion(6.0, source="Heinemann 2010, 1 uIU/mL = 6.00 pmol/L"),
    "m[IU]/L": UnitConversion(6.0, source="Heinemann 2010, 1 mIU/L = 6.00 pmol/L"),
    "uU/mL": UnitConversion(6.0, source="Heinemann 2010, 1 uU/mL = 6.00 pmol/L"),
    "mU/L": UnitConversion(6.0, source="Heinemann 2010, 1 mU/L = 6.00 pmol/L"),
}
# C-peptide molar mass 3020.3 g/mol: 1 ng/mL = 331.1 pmol/L (UniProt P01308 C-peptide 31 aa).
_CPEPTIDE = {
    "ng/mL": UnitConversion(1e6 / 3020.3, source="C-peptide M = 3020.3 g/mol"),
    "nmol/L": UnitConversion(1000.0, source="SI prefix"),
}
# Catalytic concentration: 1 ukat/L = 60 U/L (1 U = 1 umol/min = 16.67 nkat; IFCC).
_ENZYME = {"ukat/L": UnitConversion(60.0, source="IFCC: 1 U = 16.67 nkat")}

ANALYTES: dict[str, Analyte] = {
    a.id: a
    for a in [
        Analyte(
            "fpg",
            "Fasting plasma glucose",
            "14771-0",  # loinc.org 14771-0: Fasting glucose [Moles/volume] in Serum or Plasma
            "mmol/L",
            _GLUCOSE,
            possible=(0.5, 60.0),  # glucose < 0.5 or > 60 mmol/L: not compatible with life/assay
            plausible=(3.0, 25.0),  # ADA 2024 Standards: outside is rare in treated T2D
        ),
        Analyte(
            "pg2h",
            "2-h plasma glucose",
            # loinc.org 14749-6: Glucose [Moles/volume] in Serum or Plasma (untimed, molar).
            # The molar "--2 hours post meal" term could not be verified here; 1521-4 is the
            # mass term and 14995-5 the molar 2-h *OGTT* term, neither fits a 2-h meal sample.
            "14749-6",
            "mmol/L",
            _GLUCOSE,
            possible=(0.5, 60.0),
            plausible=(3.0, 33.3),  # 33.3 mmol/L = 600 mg/dL, usual meter ceiling
        ),
        Analyte(
            "hba1c",
            "Haemoglobin A1c (NGSP)",
            "4548-4",  # Hemoglobin A1c/Hemoglobin.total in Blood
            "%",
            # NGSP % = 0.09148 * IFCC + 2.152 (Hoelzel W, Clin Chem 2004;50:166, master equation)
            {"mmol/mol": UnitConversion(0.09148, 2.152, source="Hoelzel 2004 master equation")},
            possible=(2.0, 25.0),  # assay range of NGSP-certified methods
            plausible=(4.0, 16.0),  # DESIGN.md: HbA1c 19 % is possible but implausible
        ),
        Analyte(
            "fins",
            "Fasting insulin",
            "59179-2",  # loinc.org 59179-2: Insulin [Moles/volume] in Serum or Plasma --fasting
            "pmol/L",
            _INSULIN,
            possible=(0.0, 20000.0),
            plausible=(6.0, 1500.0),
        ),
        Analyte(
            "ins2h",
            "2-h insulin",
            # loinc.org 14796-7: Insulin [Moles/volume] in Serum or Plasma (untimed); no molar
            # "--2 hours post meal" insulin term could be verified, so the untimed one is used.
            "14796-7",
            "pmol/L",
            _INSULIN,
            possible=(0.0, 20000.0),
            plausible=(6.0, 5000.0),
        ),
        Analyte(
            "fcp",
            "Fasting C-peptide",
            "42180-0",  # loinc.org 42180-0: C peptide [Moles/volume] in Serum or Plasma --fasting
            "pmol/L",
            _CPEPTIDE,
            possible=(0.0, 20000.0),
            plausible=(10.0, 5000.0),
        ),
        Analyte(
            "cp2h",
            "2-h C-peptide",
            # Not verified: the molar 2-h post-meal C-peptide term (and the untimed molar one)
            # could not be confirmed against loinc.org; 1986-9 is the mass term. Left empty.
            "",
            "pmol/L",
            _CPEPTIDE,
            possible=(0.0, 30000.0),
            plausible=(10.0, 10000.0),
        ),
        Analyte(
            "hscrp",
            "High-sensitivity C-reactive protein",
            "30522-7",
            "mg/L",
            {"mg/dL": UnitConversion(10.0, source="SI prefix")},
            possible=(0.0, 1000.0),
            plausible=(0.05, 200.0),
        ),
        Analyte(
            "alt",
            "Alanine aminotransferase",
            "1742-6",
            "U/L",
            _ENZYME,
            possible=(0.0, 20000.0),
            plausible=(3.0, 1000.0),
        ),
        Analyte(
            "ast",
            "Aspartate aminotransferase",
            "1920-8",
            "U/L",
            _ENZYME,
            possible=(0.0, 20000.0),
            plausible=(3.0, 1000.0),
        ),
        Analyte(
            "ggt",
            "Gamma-glutamyl transferase",
            "2324-2",
            "U/L",
            _ENZYME,
            possible=(0.0, 20000.0),
            plausible=(3.0, 1500.0),
        ),
        Analyte(
            "creatinine",
            "Serum creatinine",
            "14682-9",
            "umol/L",
            # KDIGO 2012 CKD guideline (Kidney Int Suppl 2013;3:1), units: 1 mg/dL = 88.4 umol/L
            {"mg/dL": UnitConversion(88.4, source="KDIGO 2012, 1 mg/dL = 88.4 umol/L")},
            possible=(5.0, 3000.0),
            plausible=(30.0, 800.0),
        ),
        Analyte(
            "egfr",
            "eGFR (CKD-EPI 2021)",
            "98979-8",
            "mL/min/{1.73_m2}",
            {},
            possible=(0.0, 250.0),
            plausible=(5.0, 150.0),
            kind="derived",
        ),
        Analyte(
            "testosterone",
            "Total testosterone",
            "14913-8",
            "nmol/L",
            # testosterone M = 288.42 g/mol: 1 ng/dL = 0.03467 nmol/L
            {
                "ng/dL": UnitConversion(0.034671, source="testosterone M = 288.42 g/mol"),
                "ng/mL": UnitConversion(3.4671, source="testosterone M = 288.42 g/mol"),
            },
            possible=(0.0, 200.0),
            plausible=(0.1, 60.0),
            sex="M",  # Chin 2025 (seed summary line 4): "testosterone in males"
        ),
        Analyte(
            "estradiol",
            "Estradiol",
            "14715-7",
            "pmol/L",
            # estradiol M = 272.38 g/mol: 1 pg/mL = 3.671 pmol/L
            {
                "pg/mL": UnitConversion(3.6713, source="estradiol M = 272.38 g/mol"),
                "ng/L": UnitConversion(3.6713, source="estradiol M = 272.38 g/mol"),
            },
            possible=(0.0, 50000.0),
            plausible=(5.0, 15000.0),
            sex="F",  # Chin 2025 (seed summary line 4): "estradiol in females"
        ),
        Analyte(
            "leukocytes",
            "Leukocytes",
            "6690-2",
            "10*9/L",
            {
                "10*3/uL": UnitConversion(1.0, source="1 uL = 1e-6 L"),
                "/uL": UnitConversion(1e-3, source="1 uL = 1e-6 L"),
            },
            possible=(0.0, 500.0),
            plausible=(1.0, 50.0),
        ),
        Analyte(
            "lymphocytes",
            "Lymphocytes",
            "731-0",
            "10*9/L",
            {
                "10*3/uL": UnitConversion(1.0, source="1 uL = 1e-6 L"),
                "/uL": UnitConversion(1e-3, source="1 uL = 1e-6 L"),
            },
            possible=(0.0, 500.0),
            plausible=(0.2, 20.0),
        ),
        # Tumour markers: Lian 2022 measures them for safety (L298-299) and its 3-year
        # follow-up watches them (L299-301). The plausible upper bounds are the levels that
        # point to a cancer, so a value above one is flagged (and alerts the site) for review.
        Analyte(
            "afp",
            "Alpha-fetoprotein",
            "1834-1",  # loinc.org 1834-1: Alpha-1-Fetoprotein [Mass/volume] in Serum or Plasma
            "ng/mL",
            # WHO 1st International Standard 72/225: 1 IU AFP = 1.21 ng (Sizaret 1975)
            {"ug/L": _SAME, "[IU]/mL": UnitConversion(1.21, source="WHO IS 72/225")},
            possible=(0.0, 1e6),  # the highest hepatoblastoma/HCC levels reach ~1e6 ng/mL
            # 0.1: below the functional sensitivity of routine immunoassays (~0.5 ng/mL);
            # 400 ng/mL: level diagnostic of hepatocellular carcinoma (AASLD 2018 guidance,
            # Marrero JA, Hepatology 2018;68:723); adult reference < 10 ng/mL
            plausible=(0.1, 400.0),
        ),
        Analyte(
            "cea",
            "Carcinoembryonic antigen",
            "2039-6",  # loinc.org 2039-6: Carcinoembryonic Ag [Mass/volume] in Serum or Plasma
            "ng/mL",
            {"ug/L": _SAME},  # 1 ng/mL = 1 ug/L (SI prefixes)
            possible=(0.0, 1e5),
            # reference < 5 ng/mL (smokers < 10); above 100 ng/mL is almost always metastatic
            # cancer (Goldstein MJ, Mitchell EP. Cancer Invest 2005;23:338-351)
            plausible=(0.1, 100.0),
        ),
        Analyte(
            "ca199",
            "Carbohydrate antigen 19-9",
            "24108-3",  # loinc.org 24108-3: Cancer Ag 19-9 [Units/volume] in Serum or Plasma
            "U/mL",
            {"k[U]/L": _SAME},  # 1 U/mL = 1000 U/L = 1 kU/L (SI prefixes)
            possible=(0.0, 1e6),
            # 0: Lewis-negative people (5-10 %) make no CA19-9 (Tempero MA, Cancer Res
            # 1987;47:5501); reference < 37 U/mL; above 1000 U/mL points to advanced
            # pancreatic cancer (Ballehaninna UK, Chamberlain RS. J Gastrointest Oncol 2012;3:105)
            plausible=(0.0, 1000.0),
        ),
        # The malignancy question of the long-term follow-up (lian2022 m6-m36, issue 11):
        # "new malignancy diagnosed since the last visit?", 1 = yes, 0 = no. Held as a
        # measurement at the visit, not as a field or a table of its own, because (1) the
        # answer "no" must be stored (it is the evidence the question was asked, and the
        # adverse-event table holds events only), (2) a measurement carries visit_id and time,
        # so the one windows code places the answer in its visit window and the visit counts
        # as done, and (3) StudyData keeps its eight tables (../shared/DESIGN.md). A "yes" is
        # in addition reported as an adverse event (term "Malignancy", serious: an important
        # medical event, ICH E2A), where its grade, date and relatedness live. plausible
        # (0, 0): a "yes" is flagged for review and alerts the site investigators.
        Analyte(
            "new_malignancy",
            "New malignancy since the last visit (1 yes, 0 no)",
            "",  # no LOINC term for this question (searched loinc.org)
            "1",  # UCUM unity: a dimensionless answer
            {},
            possible=(0.0, 1.0),
            plausible=(0.0, 0.0),
            kind="question",
        ),
        Analyte(
            "gad_ab",
            "Glutamic acid decarboxylase antibodies",
            "56540-8",
            "[IU]/mL",
            # Only WHO-standardised IU/mL: kit "U/mL" are assay-specific arbitrary units with
            # no published equivalence to IU (Bingley 2003 DASP, Diabetes 52:1128), refused.
            {},
            possible=(0.0, 1e5),
            plausible=(0.0, 2000.0),
            kind="serology",
        ),
        Analyte(
            "weight",
            "Body weight",
            "29463-7",
            "kg",
            {
                "g": UnitConversion(1e-3, source="SI prefix"),
                "[lb_av]": UnitConversion(
                    0.45359237, source="international avoirdupois pound, exact"
                ),
            },
            possible=(20.0, 400.0),
            plausible=(35.0, 200.0),
            kind="anthropometric",
        ),
        Analyte(
            "height",
            "Body height",
            "8302-2",
            "cm",
            {
                "m": UnitConversion(100.0, source="SI prefix"),
                "[in_i]": UnitConversion(2.54, source="international inch, exact"),
            },
            possible=(100.0, 250.0),
            plausible=(135.0, 210.0),
            kind="anthropometric",
        ),
        Analyte(
            "bmi",
            "Body mass index",
            "39156-5",
            "kg/m2",
            {},
            possible=(8.0, 120.0),
            plausible=(15.0, 60.0),
            kind="derived",
        ),
        Analyte(
            "sbp",
            "Systolic blood pressure",
            "8480-6",
            "mm[Hg]",
            {"kPa": UnitConversion(7.50062, source="1 kPa = 7.50062 mmHg")},
            possible=(40.0, 300.0),
            plausible=(80.0, 220.0),
            kind="vital",
        ),
        Analyte(
            "dbp",
            "Diastolic blood pressure",
            "8462-4",
            "mm[Hg]",
            {"kPa": UnitConversion(7.50062, source="1 kPa = 7.50062 mmHg")},
            possible=(20.0, 200.0),
            plausible=(40.0, 130.0),
            kind="vital",
        ),
        # Derived indices (computed by celltrial.clinical.derivations, source="derived").
        # LOINC has no term for the HOMA indices: loinc "" (searched loinc.org, 2024).
        Analyte(
            "homa1_ir",
            "HOMA1 insulin resistance (insulin-based)",
            "",
            "1",
            {},
            possible=(0.0, 1000.0),
            plausible=(0.1, 50.0),  # Matthews 1985: normal 1.0; T2D cohorts rarely above 30
            kind="derived",
        ),
        Analyte(
            "homa1_b",
            "HOMA1 beta-cell function (insulin-based)",
            "",
            "%",
            {},
            possible=(0.0, 1e5),
            plausible=(1.0, 1000.0),  # Matthews 1985: normal 100 %
            kind="derived",
        ),
        Analyte(
            "homa_cp_ir",
            "HOMA insulin resistance from C-peptide",
            "",
            "1",
            {},
            possible=(1.5, 1000.0),  # Lian 2022: 1.5 + FCP x FPG / 2800 is never below 1.5
            plausible=(1.5, 30.0),
            kind="derived",
        ),
        Analyte(
            "homa_cp_b",
            "HOMA beta-cell function from C-peptide",
            "",
            "%",
            {},
            possible=(0.0, 1e5),
            plausible=(1.0, 500.0),  # Lian 2022 baseline 35.01 +- 24.35 %
            kind="derived",
        ),
        Analyte(
            "eag",
            "Estimated average glucose (ADAG)",
            "53553-4",  # Glucose mean value [Moles/volume] in Blood Estimated from HbA1c
            "mmol/L",
            _GLUCOSE,
            possible=(0.5, 40.0),  # ADAG line at HbA1c 2-25 % gives 0.6-37 mmol/L
            plausible=(3.7, 23.0),  # ADAG line at HbA1c 4-16 %
            kind="derived",
        ),
        Analyte(
            "hba1c_ifcc",
            "Haemoglobin A1c (IFCC)",
            "59261-8",  # Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol (loinc.org)
            "mmol/mol",
            {},
            possible=(0.0, 250.0),  # Hoelzel 2004 master equation at NGSP 2-25 %
            plausible=(20.0, 152.0),  # master equation at NGSP 4-16 %
            kind="derived",
        ),
    ]
}


# yes/no questions: the only values they take (1 yes, 0 no); validate refuses any other
QUESTIONS: frozenset[str] = frozenset(a.id for a in ANALYTES.values() if a.kind == "question")
ANSWERS = (0.0, 1.0)

# analyte -> the one sex it is analysed in (from the catalogue's `sex` flags)
SEX_SPECIFIC: dict[str, str] = {a.id: a.sex for a in ANALYTES.values() if a.sex}


class UnknownAnalyteError(KeyError):
    def __init__(self, analyte: str) -> None:
        super().__init__(analyte)
        self.analyte = analyte

    def __str__(self) -> str:
        return f"unknown analyte {self.analyte!r}; known: {', '.join(sorted(ANALYTES))}"


class UnknownUnitError(ValueError):
    def __init__(self, analyte: str, unit: str) -> None:
        self.analyte, self.unit = analyte, unit
        accepted = ", ".join(get_analyte(analyte).accepted_units())
        super().__init__(f"unit {unit!r} is not accepted for {analyte}; accepted: {accepted}")


def get_analyte(analyte: str) -> Analyte:
    try:
        return ANALYTES[analyte]
    except KeyError:
        raise UnknownAnalyteError(analyte) from None


def to_canonical_factors(analyte: str, unit: str) -> UnitConversion:
    """The (factor, offset) that takes a value in `unit` to the analyte's canonical unit."""
    a = get_analyte(analyte)
    if unit == a.unit:
        return _SAME
    try:
        return a.units[unit]
    except KeyError:
        raise UnknownUnitError(analyte, unit) from None
