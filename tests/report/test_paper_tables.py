"""Tables laid out as the papers lay them out (Lian 2022 Table 1; per-visit median (Q1, Q3)
with P against baseline), cells checked against NumPy and SciPy on the study's own values."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from celltrial.analysis import analyze_study
from celltrial.report.tables import baseline_table, median_table
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials


@pytest.fixture(scope="module")
def lian():
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 16, seed=3))
    return study, analyze_study(study, "lian2022")


def _values(study, analyte: str, visit: str) -> pl.DataFrame:
    m = study.measurements.filter((pl.col("analyte") == analyte) & (pl.col("visit_id") == visit))
    return m.group_by("participant_id").agg(pl.col("value").mean())


def test_table_1_is_mean_sd_and_sex_counts_as_lian(lian) -> None:
    study, r = lian
    t = baseline_table(r)
    n = study.participants.height
    column = f"All participants (n = {n})"
    assert t.frame.columns == ["Characteristic", column]
    rows = dict(t.frame.rows())
    age = study.participants["age"].to_numpy()
    assert rows["Age, years"] == f"{age.mean():.1f} ± {age.std(ddof=1):.1f}"
    men = int((study.participants["sex"] == "M").sum())
    assert rows["Male"] == f"{men} ({100 * men / n:.1f} %)"
    assert rows["Female"] == f"{n - men} ({100 * (n - men) / n:.1f} %)"
    assert t.frame["Characteristic"].to_list()[:3] == ["Age, years", "Male", "Female"]
    hba1c = _values(study, "hba1c", "d0")["value"].to_numpy()
    want = f"{hba1c.mean():.2f} ± {hba1c.std(ddof=1):.2f}"
    if len(hba1c) < n:
        want += f" (n = {len(hba1c)})"
    assert rows["Haemoglobin A1c (NGSP), %"] == want


def test_median_table_cells_and_p_against_numpy_and_scipy(lian) -> None:
    study, r = lian
    t = median_table(r)
    assert t.frame.columns == ["Outcome", "Baseline", "Day 14", "Day 21", "Day 28", "Day 84"]
    labels = t.frame["Outcome"].to_list()
    k = labels.index("Fasting plasma glucose, mmol/L")
    assert labels[k + 1 : k + 3] == ["  P vs baseline", "  P (Holm)"]
    d0, d14 = _values(study, "fpg", "d0"), _values(study, "fpg", "d14")
    x = d14["value"].to_numpy()
    q1, med, q3 = np.percentile(x, [25, 50, 75], method="weibull")  # Hyndman-Fan type 6
    cell = f"{med:.2f} ({q1:.2f}, {q3:.2f})"
    if len(x) < study.participants.height:
        cell += f"; n = {len(x)}"
    assert t.frame["Day 14"][k] == cell
    both = d0.join(d14, on="participant_id", suffix="_14")
    p = stats.wilcoxon(both["value_14"], both["value"]).pvalue
    assert t.frame["Day 14"][k + 1] == ("<0.001" if p < 0.001 else f"{p:.3f}")
    # HbA1c is not measured at day 14 (Lian 2022 Figure 2E): the cell stays empty
    h = labels.index("Haemoglobin A1c (NGSP), %")
    assert t.frame["Day 14"][h] == "" and t.frame["Day 84"][h] != ""
    # day 14: FPG (Figure 2A) and leukocytes (Figure 3A) only
    assert t.sheet.filter(pl.col("Visit") == "Day 14").height == 2


def test_table_1_without_ages_starts_with_sex(lian) -> None:
    import dataclasses

    study, _ = lian
    no_age = study.participants.with_columns(
        pl.lit(None, pl.Float64).alias("age"), pl.lit(None, pl.Date).alias("birth_date")
    )
    r = analyze_study(dataclasses.replace(study, participants=no_age), "lian2022")
    names = baseline_table(r).frame["Characteristic"].to_list()
    assert names[:3] == ["Male", "Female", "Duration of diabetes, years"]
    assert "Age, years" not in names
