"""Sex-specific analytes (testosterone in men, estradiol in women; Chin 2025): summaries,
tests and missing-data counts count only that sex."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from celltrial.analysis import analyze_study
from celltrial.analysis.paired import METHOD_T
from celltrial.clinical.analytes import SEX_SPECIFIC
from celltrial.clinical.precision import decimals


def _with_hormones(study):
    """Testosterone for most men at d0 and d84, estradiol for the women at d0; one woman
    also has a testosterone value (a data error the analysis must not count)."""
    p = study.participants
    men = p.filter(pl.col("sex") == "M")["participant_id"].to_list()
    women = p.filter(pl.col("sex") == "F")["participant_id"].to_list()
    rng = np.random.default_rng(7)
    rows = []
    for k, pid in enumerate(men[:-2]):  # the last two men have no testosterone at all
        for visit, day in (("d0", 0), ("d84", 84)):
            if visit == "d84" and k == 0:
                continue  # one man misses the d84 value
            rows.append((pid, visit, day, "testosterone", round(rng.normal(12, 3), 2), "nmol/L"))
    rows.append((women[0], "d0", 0, "testosterone", 1.1, "nmol/L"))
    for pid in women[1:]:
        rows.append((pid, "d0", 0, "estradiol", round(rng.normal(150, 30), 1), "pmol/L"))
    start = dt.datetime(2024, 1, 8, 8)
    extra = pl.DataFrame(
        {
            "participant_id": [r[0] for r in rows],
            "visit_id": [r[1] for r in rows],
            "time": [start + dt.timedelta(days=r[2], minutes=5) for r in rows],
            "analyte": [r[3] for r in rows],
            "value": [r[4] for r in rows],
            "unit": [r[5] for r in rows],
        }
    )
    m = pl.concat([study.measurements, extra], how="diagonal_relaxed")
    m = m.select(study.measurements.columns).cast(study.measurements.schema)
    return dataclasses.replace(study, measurements=m), men, women, rows


def test_the_catalogue_names_the_sex_of_each_sex_specific_analyte():
    assert SEX_SPECIFIC == {"testosterone": "M", "estradiol": "F"}


def test_hormones_counted_only_in_their_sex(study_factory):
    study, men, women, rows = _with_hormones(study_factory(12, protocol=None))
    r = analyze_study(study)
    male = {(pid, v): x for pid, v, _, a, x, _ in rows if a == "testosterone" and pid in men}

    s = r.summaries.filter(pl.col("analyte") == "testosterone")
    base = np.array([x for (pid, v), x in male.items() if v == "d0"])
    row = s.filter(pl.col("visit_id") == "d0").row(0, named=True)
    assert row["n"] == len(base) == len(men) - 2  # the woman's value is not counted
    assert row["mean"] == pytest.approx(base.mean())
    assert row["sd"] == pytest.approx(base.std(ddof=1))

    miss = r.missing_summary.filter(pl.col("analyte") == "testosterone")
    d0 = miss.filter(pl.col("visit_id") == "d0").row(0, named=True)
    # expected: the men only; the women are neither expected nor missing
    assert (d0["expected"], d0["observed"], d0["missing"]) == (len(men), len(men) - 2, 2)
    d84 = miss.filter(pl.col("visit_id") == "d84").row(0, named=True)
    assert (d84["expected"], d84["missing"]) == (len(men), 3)
    who = r.missing_values.filter(pl.col("analyte") == "testosterone")["participant_id"]
    assert set(who.to_list()) <= set(men)

    e = r.missing_summary.filter((pl.col("analyte") == "estradiol") & (pl.col("visit_id") == "d0"))
    assert (e["expected"][0], e["observed"][0], e["missing"][0]) == (len(women), 2, 1)

    pairs = [(male[(p, "d0")], male[(p, "d84")]) for p in men if (p, "d84") in male]
    b, f = np.array(pairs).T
    w = r.paired.filter(
        (pl.col("analyte") == "testosterone")
        & (pl.col("visit_id") == "d84")
        & (pl.col("method") != METHOD_T)
        & (pl.col("subgroup") == "all")
    ).row(0, named=True)
    assert w["n_pairs"] == len(pairs)
    # the default convention: SPSS 25's asymptotic test on changes rounded to the analyte's
    # reporting precision (celltrial.clinical.precision), zeros dropped, no continuity correction
    d = np.round(f - b, decimals("testosterone"))
    spss = stats.wilcoxon(d, method="approx", correction=False, zero_method="wilcox")
    assert w["p_value"] == pytest.approx(spss.pvalue)
    t1 = r.baseline.filter(pl.col("variable") == "testosterone").row(0, named=True)
    assert t1["n"] == len(base)
