"""Derived outcomes (HOMA indices, eGFR) added to the measurements by celltrial.clinical.

The formulas and the pairing of inputs live in celltrial.clinical.derivations (one derivation
per index, DESIGN.md); this module only decides which are needed and maps the ids protocols use
for derived outcomes onto the catalogue's ids.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from celltrial.analysis.plan import AnalysisPlan
from celltrial.clinical.derivations import (
    Derived,
    derive_bmi,
    derive_egfr,
    derive_homa1,
    derive_homa_cp,
)
from celltrial.data.study import StudyData

# Protocol outcome id -> catalogue analyte id (lian2022/chin2025 YAML name derived outcomes
# their own way; the catalogue and derivations use these ids).
ALIASES: dict[str, str] = {
    "homa_ir_cp": "homa_cp_ir",
    "homa_b_cp": "homa_cp_b",
    "homa_ir": "homa1_ir",
    "homa_b": "homa1_b",
}

# catalogue id -> derivation over (measurements, participants)
DERIVERS: dict[str, Callable[[pl.DataFrame, pl.DataFrame], Derived]] = {
    "homa_cp_ir": lambda m, p: derive_homa_cp(m),
    "homa_cp_b": lambda m, p: derive_homa_cp(m),
    "homa1_ir": lambda m, p: derive_homa1(m),
    "homa1_b": lambda m, p: derive_homa1(m),
    "egfr": derive_egfr,
    "bmi": derive_bmi,
}
# Described at baseline (Lian 2022 Table 1) even when no protocol outcome names them.
BASELINE_EXTRAS = ("weight", "bmi")


def with_derived(study: StudyData, plan: AnalysisPlan) -> pl.DataFrame:
    """study.measurements plus the derived outcomes the plan needs and the study lacks,
    named by the plan's ids."""
    m = study.measurements
    present = set(m["analyte"].unique().to_list())
    done: set[int] = set()
    for analyte in [*plan.analytes, *BASELINE_EXTRAS]:  # one step per index, not per row
        catalogue_id = ALIASES.get(analyte, analyte)
        derive = DERIVERS.get(catalogue_id)
        if analyte in present or catalogue_id in present or derive is None:
            continue
        if id(derive) not in done:
            m = derive(m, study.participants).table
            done.add(id(derive))
        present = set(m["analyte"].unique().to_list())
    rename = {ALIASES[a]: a for a in plan.analytes if a in ALIASES and a not in present}
    if rename:
        m = m.with_columns(pl.col("analyte").replace(rename))
    return m
