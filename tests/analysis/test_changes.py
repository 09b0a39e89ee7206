"""Unpaired per-visit summaries beside the paired change of completers (Chin 2025 layout),
against NumPy and SciPy on the study's own values, with participants missing visits."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
from scipy import stats

from celltrial.analysis import analyze_study
from celltrial.report.tables import changes_table


def _drop(study, pairs: set[tuple[str, str]]):
    m = study.measurements
    gone = pl.struct("participant_id", "visit_id").is_in(
        [{"participant_id": p, "visit_id": v} for p, v in pairs]
    )
    return dataclasses.replace(study, measurements=m.filter(~gone | (pl.col("analyte") != "fpg")))


def test_unpaired_and_paired_changes_by_hand(study_factory) -> None:
    # P00, P01 miss the d84 FPG, P02 misses the baseline FPG: 9 completers of 12
    study = _drop(study_factory(12), {("P00", "d84"), ("P01", "d84"), ("P02", "d0")})
    r = analyze_study(study, "lian2022")
    fpg = study.measurements.filter(pl.col("analyte") == "fpg")
    d0 = dict(fpg.filter(pl.col("visit_id") == "d0").select("participant_id", "value").rows())
    d84 = dict(fpg.filter(pl.col("visit_id") == "d84").select("participant_id", "value").rows())
    both = sorted(set(d0) & set(d84))
    b = np.array([d0[p] for p in both])
    f = np.array([d84[p] for p in both])
    row = r.changes.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d84"))
    row = row.row(0, named=True)
    assert (row["n_baseline"], row["n_visit"], row["n_pairs"]) == (11, 10, 9)
    assert row["baseline_mean"] == pytest.approx(np.mean(list(d0.values())))
    assert row["visit_sd"] == pytest.approx(np.std(list(d84.values()), ddof=1))
    assert row["paired_baseline_mean"] == pytest.approx(b.mean())
    assert row["paired_visit_sd"] == pytest.approx(f.std(ddof=1))
    assert row["change_mean"] == pytest.approx((f - b).mean())
    assert row["change_sd"] == pytest.approx((f - b).std(ddof=1))
    # the same completers as the paired tests
    w = r.paired.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d84"))
    assert (w["n_pairs"] == row["n_pairs"]).all()
    # the report row: both groups side by side, the paired P from SciPy on the completers
    t = changes_table(r)
    cells = dict(
        zip(t.frame.columns, t.frame.row(t.frame["Visit"].to_list().index("Day 84")), strict=True)
    )
    assert cells["All with a value: baseline, n"] == "11" and cells["Completers, n"] == "9"
    p = stats.ttest_rel(f, b).pvalue
    assert cells["Paired t-test P"] == ("<0.001" if p < 0.001 else f"{p:.3f}")
    assert (
        cells["Completers: change, mean ± SD"]
        == f"{(f - b).mean():.2f} ± {(f - b).std(ddof=1):.2f}"
    )
