"""Derived outcomes (HOMA indices) computed per participant and visit by celltrial.clinical.

The formulas live in celltrial.clinical (one derivation per index, DESIGN.md); this module
only lines up the inputs measured at the same visit and calls them.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from celltrial.analysis.plan import AnalysisPlan
from celltrial.clinical.homa import homa1_b, homa1_ir, homa_cp_b, homa_cp_ir

# derived analyte id -> (clinical function, its input analytes in argument order); canonical
# units (glucose mmol/L, insulin and C-peptide pmol/L) as the functions expect.
DERIVATIONS: dict[str, tuple[Callable[..., object], tuple[str, ...]]] = {
    "homa_ir_cp": (homa_cp_ir, ("fcp", "fpg")),  # Lian 2022 Methods
    "homa_b_cp": (homa_cp_b, ("fcp", "fpg")),  # Lian 2022 Methods
    "homa_ir": (homa1_ir, ("fpg", "fins")),  # Matthews 1985
    "homa_b": (homa1_b, ("fpg", "fins")),  # Matthews 1985
}


def add_derived(values: pl.DataFrame, plan: AnalysisPlan) -> pl.DataFrame:
    """Append derived outcomes of the plan that `values` does not hold yet."""
    present = set(values["analyte"].unique().to_list())
    frames = [values]
    for outcome in plan.outcomes:  # one step per derived index, not per row
        if not outcome.derived_from or outcome.analyte in present:
            continue
        if outcome.analyte not in DERIVATIONS:
            continue
        fn, args = DERIVATIONS[outcome.analyte]
        inputs = values.filter(pl.col("analyte").is_in(list(args))).pivot(
            on="analyte", index=["participant_id", "visit_id"], values="value"
        )
        if not all(a in inputs.columns for a in args):
            continue
        inputs = inputs.drop_nulls(list(args))
        result = fn(*(inputs[a].to_numpy() for a in args))
        derived = inputs.select("participant_id", "visit_id").with_columns(
            pl.lit(outcome.analyte).alias("analyte"),
            pl.Series("value", result, dtype=pl.Float64),
        )
        frames.append(derived.filter(pl.col("value").is_finite()))
    return pl.concat(frames, how="vertical_relaxed")
