import json

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from celltrial.analysis import analyze_study
from celltrial.analysis.paired import METHOD_T
from celltrial.analysis.wilcoxon import METHOD_EXACT, METHOD_NORMAL


def test_analyze_study_per_visit_and_paired_match_scipy(study, tmp_path) -> None:
    res = analyze_study(study, "lian2022")
    fpg = study.measurements.filter(pl.col("analyte") == "fpg")
    d0 = fpg.filter(pl.col("visit_id") == "d0").sort("participant_id")["value"].to_numpy()
    d14 = fpg.filter(pl.col("visit_id") == "d14").sort("participant_id")["value"].to_numpy()
    s = res.summaries.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d14")).row(
        0, named=True
    )
    assert s["n"] == 12
    assert s["q1"] == pytest.approx(np.quantile(d14, 0.25, method="weibull"))
    d = np.round(d14 - d0, 2)  # changes at fpg's reporting precision (2 decimals)
    p = res.paired.filter(
        (pl.col("analyte") == "fpg")
        & (pl.col("visit_id") == "d14")
        & (pl.col("method") != METHOD_T)
    ).row(0, named=True)
    # the default convention: SPSS 25 Asymp. Sig. (tie-corrected, no continuity correction)
    assert res.meta["rank_tests"] == "spss" and p["method"] == METHOD_NORMAL
    ref = stats.wilcoxon(d, method="approx", correction=False)
    assert p["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert "without continuity correction" in res.meta["methods"]["wilcoxon"]
    exact = analyze_study(study, "lian2022", rank_tests="exact")
    p = exact.paired.filter(
        (pl.col("analyte") == "fpg")
        & (pl.col("visit_id") == "d14")
        & (pl.col("method") != METHOD_T)
    ).row(0, named=True)
    # at 2 decimals two pairs of changes tie (-2.68, -2.05): no exact distribution, so the
    # "exact" convention falls back to the same asymptotic test
    assert len(np.unique(np.abs(d))) == len(d) - 2
    assert exact.meta["rank_tests"] == "exact" and p["method"] == METHOD_NORMAL
    assert p["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert "exact null distribution" in exact.meta["methods"]["wilcoxon"]
    # hba1c is scheduled at d0, d28, d84 only (Lian 2022 Figure 2E)
    assert set(res.summaries.filter(pl.col("analyte") == "hba1c")["visit_id"]) == {
        "d0",
        "d28",
        "d84",
    }
    res.to_json(tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text())
    keys = {"analyte", "visit_id", "n", "mean", "sd", "median", "q1", "q3"}
    assert keys <= set(data["summaries"][0])
    pkeys = {
        "analyte",
        "visit_id",
        "baseline_visit_id",
        "n_pairs",
        "method",
        "statistic",
        "p_value",
        "p_holm",
        "estimate",
        "ci_low",
        "ci_high",
    }
    assert pkeys <= set(data["paired"][0])


def test_safety_tables_count_by_hand(study) -> None:
    res = analyze_study(study, "lian2022")
    overall = res.ae_overall.row(0, named=True)
    # 3 of 12 participants had an AE; 4 events over 36 infusions
    assert overall["count"] == 3 and overall["events"] == 4
    assert overall["events_per_infusion"] == pytest.approx(4 / 36)
    fever = res.ae_by_term.filter(pl.col("term") == "Fever").row(0, named=True)
    assert fever["events"] == 3 and fever["count"] == 2
    by_inf = {r["infusion_number"]: r["events"] for r in res.ae_by_infusion.iter_rows(named=True)}
    # A2 (no infusion_id) links back to infusion 3 but began 30 h after it, outside the 24 h
    # fever window: not attributed; A4 (hypoglycaemia, no window) belongs to infusion 3
    assert by_inf == {1: 0, 2: 1, 3: 2}
    by_time = {r["time_after_infusion"]: r["events"] for r in res.ae_by_time.iter_rows(named=True)}
    assert by_time["<= 24 h"] == 2 and by_time["1-7 days"] == 1 and by_time["> 7 days"] == 1


def test_mixed_model_equals_mean_change_on_complete_balanced_data(study) -> None:
    # With every participant at every visit, the REML fixed effect of a visit is the mean
    # paired change (balanced design: OLS and GLS coincide).
    res = analyze_study(study, "lian2022")
    fpg = study.measurements.filter(pl.col("analyte") == "fpg")
    wide = fpg.pivot(on="visit_id", index="participant_id", values="value")
    mean_change = (wide["d28"] - wide["d0"]).mean()
    row = res.mixed.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d28")).row(
        0, named=True
    )
    assert row["estimate"] == pytest.approx(mean_change, rel=1e-4)
    assert row["ci_low"] < row["estimate"] < row["ci_high"]


def test_missing_summary_and_completers(study_factory) -> None:
    study = study_factory(n=10)
    gone = study.measurements.filter(
        ~(pl.col("participant_id").is_in(["P00", "P01"]) & (pl.col("visit_id") == "d84"))
    )
    res = analyze_study(study.with_table("measurements", gone), "lian2022")
    miss = res.missing_summary.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d84"))
    assert miss["missing"].to_list() == [2] and miss["expected"].to_list() == [10]
    who = res.missing_values.filter(pl.col("analyte") == "fpg")
    assert set(who["participant_id"]) == {"P00", "P01"}
    c = res.completers.filter(pl.col("variable") == "fpg").row(0, named=True)
    assert (c["n_completers"], c["n_non_completers"]) == (8, 2)
    base = study.measurements.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d0"))
    x = base.filter(~pl.col("participant_id").is_in(["P00", "P01"]))["value"].to_numpy()
    y = base.filter(pl.col("participant_id").is_in(["P00", "P01"]))["value"].to_numpy()
    # values at fpg's reporting precision; SPSS 25 asymptotic test, no continuity correction
    ref = stats.mannwhitneyu(
        np.round(x, 2), np.round(y, 2), use_continuity=False, method="asymptotic"
    )
    assert c["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)


def test_one_participant_gives_reasons_not_exceptions(study_factory) -> None:
    res = analyze_study(study_factory(n=1), "lian2022")
    measured = res.paired.filter(pl.col("analyte").is_in(["fpg", "fcp", "hba1c", "leukocytes"]))
    assert set(measured["n_pairs"]) == {1}  # pg2h, cp2h are not in the fixture: 0 pairs
    assert res.paired["reason"].null_count() == 0  # no CI at n = 1, t-test undefined
    assert res.mixed["reason"].null_count() == 0
    assert res.mixed["estimate"].null_count() == res.mixed.height
    ones = res.summaries.filter(pl.col("n") == 1)
    assert ones.height > 0 and ones["sd"].null_count() == ones.height


def test_two_participants_exact_p_and_no_ci(study_factory) -> None:
    study = study_factory(n=2)
    res = analyze_study(study, "lian2022", rank_tests="exact")
    fpg = study.measurements.filter(pl.col("analyte") == "fpg").sort("participant_id")
    d0 = fpg.filter(pl.col("visit_id") == "d0")["value"].to_numpy()
    d14 = fpg.filter(pl.col("visit_id") == "d14")["value"].to_numpy()
    row = res.paired.filter(
        (pl.col("analyte") == "fpg")
        & (pl.col("visit_id") == "d14")
        & (pl.col("method") == METHOD_EXACT)
    ).row(0, named=True)
    assert row["p_value"] == pytest.approx(stats.wilcoxon(d14 - d0, method="exact").pvalue)
    assert row["ci_low"] is None and row["reason"] == "too few pairs for a 95 % CI"


def test_constant_values_and_unattended_visit(study_factory) -> None:
    study = study_factory(n=6)
    m = study.measurements.with_columns(
        pl.when(pl.col("analyte") == "hba1c").then(7.5).otherwise(pl.col("value")).alias("value")
    ).filter(pl.col("visit_id") != "d21")
    res = analyze_study(study.with_table("measurements", m), "lian2022")
    d21 = res.summaries.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d21"))
    assert d21["n"].to_list() == [0]
    h = res.paired.filter(pl.col("analyte") == "hba1c")
    assert h["reason"].null_count() == 0
    mixed = res.mixed.filter(pl.col("analyte") == "hba1c")
    assert mixed["reason"].null_count() == 0


def test_without_protocol_plan_comes_from_the_data(study_factory) -> None:
    study = study_factory(n=8, protocol=None)
    hs = study.measurements.filter(pl.col("analyte") == "fpg").with_columns(
        pl.lit("hscrp").alias("analyte"), pl.lit("mg/L").alias("unit")
    )
    study = study.with_table("measurements", pl.concat([study.measurements, hs]))
    # this fixture draws one impossible fpg (0.23 mmol/L): analysed anyway, with a warning
    res = analyze_study(study, check="warn")
    assert res.meta["visits"] == ["d0", "d14", "d21", "d28", "d84"]
    assert res.meta["protocol_id"] is None
    members = res.subgroup_membership.filter(pl.col("subgroup") == "hscrp_elevated")["n"][0]
    base = hs.filter(pl.col("visit_id") == "d0")["value"].to_numpy()
    assert members == int((base > 3.0).sum())
    sub = res.subgroup_paired.filter(pl.col("subgroup") == "hscrp_elevated")
    assert set(sub["n_pairs"]) == {members}


def test_homa_outcomes_derived_from_c_peptide(study) -> None:
    res = analyze_study(study, "lian2022")
    m = study.measurements.filter(
        (pl.col("participant_id") == "P03") & (pl.col("visit_id") == "d28")
    )
    fcp = m.filter(pl.col("analyte") == "fcp")["value"][0]
    fpg = m.filter(pl.col("analyte") == "fpg")["value"][0]
    got = res.values.filter((pl.col("participant_id") == "P03") & (pl.col("visit_id") == "d28"))
    by = dict(got.select("analyte", "value").iter_rows())
    # Lian 2022 Methods: HOMA-IR(CP) = 1.5 + FCP x FPG / 2800; HOMA-B(CP) = 0.27 FCP/(FPG - 3.5)
    assert by["homa_cp_ir"] == pytest.approx(1.5 + fcp * fpg / 2800)
    assert by["homa_cp_b"] == pytest.approx(0.27 * fcp / (fpg - 3.5))
    n = res.summaries.filter((pl.col("analyte") == "homa_cp_b") & (pl.col("visit_id") == "d0"))
    assert n["n"].to_list() == [12]


def test_baseline_table_rows_by_hand(study) -> None:
    w = study.measurements.filter(
        (pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d0")
    ).with_columns(
        pl.lit("weight").alias("analyte"), pl.lit(72.0).alias("value"), pl.lit("kg").alias("unit")
    )
    s = study.with_table("measurements", pl.concat([study.measurements, w]))
    res = analyze_study(s, "lian2022")
    b = res.baseline
    h = study.participants["height_cm"].to_numpy() / 100
    bmi = b.filter(pl.col("variable") == "bmi").row(0, named=True)
    assert bmi["mean"] == pytest.approx(np.mean(72.0 / h**2))  # BMI = kg / m^2
    assert bmi["sd"] == pytest.approx(np.std(72.0 / h**2, ddof=1))
    age = b.filter(pl.col("variable") == "age").row(0, named=True)
    # age in completed years at enrolment (clinical.derivations.age_on): the recorded age floored
    assert age["median"] == pytest.approx(
        np.quantile(np.floor(study.participants["age"].to_numpy()), 0.5, method="weibull")
    )
    men = b.filter((pl.col("variable") == "sex") & (pl.col("level") == "M")).row(0, named=True)
    assert (men["count"], men["n"]) == (9, 12)  # fixture: every 4th participant is a woman
    assert men["percent"] == pytest.approx(75.0)


def _with_safety_labs(study, alt_visits: list[str], pg2h_visits: list[str]):
    """The fixture with ALT measured only at `alt_visits` and 2-h glucose at `pg2h_visits`."""
    fpg = study.measurements.filter(pl.col("analyte") == "fpg")
    alt = fpg.filter(pl.col("visit_id").is_in(alt_visits)).with_columns(
        (pl.col("value") * 3).alias("value"),
        pl.lit("alt").alias("analyte"),
        pl.lit("U/L").alias("unit"),
    )
    pg2h = fpg.filter(pl.col("visit_id").is_in(pg2h_visits)).with_columns(
        (pl.col("value") * 1.6).alias("value"), pl.lit("pg2h").alias("analyte")
    )
    m = pl.concat([study.measurements, alt, pg2h])
    return study.with_table("measurements", m)


def test_outcome_without_visits_list_is_expected_where_measured(study_factory) -> None:
    # lian2022 lists no visits for ALT or creatinine: ALT measured at d0, d28, d84 only is
    # expected there only; creatinine, never measured, keeps the baseline alone
    study = _with_safety_labs(study_factory(n=6), ["d0", "d28", "d84"], [])
    res = analyze_study(study, "lian2022")
    assert res.meta["outcome_visits"]["alt"] == ["d0", "d28", "d84"]
    assert res.meta["outcome_visits"]["leukocytes"] == ["d0", "d14", "d21", "d28", "d84"]
    assert res.meta["outcome_visits"]["creatinine"] == ["d0"]
    assert res.summaries.filter(pl.col("analyte") == "alt")["visit_id"].to_list() == [
        "d0",
        "d28",
        "d84",
    ]
    miss = res.missing_summary.filter(pl.col("analyte") == "alt")
    assert miss["visit_id"].to_list() == ["d0", "d28", "d84"] and miss["missing"].sum() == 0
    assert res.missing_values.filter(pl.col("analyte") == "alt").height == 0
    assert set(res.paired.filter(pl.col("analyte") == "alt")["visit_id"]) == {"d28", "d84"}
    # an explicitly scheduled outcome (pg2h: d0, d28, d84) keeps its visits, values or not
    assert res.meta["outcome_visits"]["pg2h"] == ["d0", "d28", "d84"]


def test_holm_family_is_the_scheduled_visits(study_factory) -> None:
    # pg2h measured at every visit but scheduled at d28 and d84 only (Lian 2022 Figure 2B):
    # its Holm family has two tests, not four
    study = _with_safety_labs(study_factory(n=10), [], ["d0", "d14", "d21", "d28", "d84"])
    res = analyze_study(study, "lian2022")
    rows = res.paired.filter((pl.col("analyte") == "pg2h") & (pl.col("method") != METHOD_T))
    assert rows["visit_id"].to_list() == ["d28", "d84"]
    expected = multipletests(rows["p_value"].to_numpy(), method="holm")[1]
    assert rows["p_holm"].to_numpy() == pytest.approx(expected)


def test_per_participant_records_in_parquet_beside_results_json(study, tmp_path) -> None:
    res = analyze_study(study, "lian2022")
    res.to_json(tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text())
    assert "medication_changes" not in data and "missing_values" not in data
    assert data["medication_categories"]  # the summary stays in the JSON
    where = data["per_participant"]["medication_changes"]
    back = pl.read_parquet(tmp_path / where["file"])
    # 12 participants x 4 follow-up visits (d14, d21, d28, d84), as the fixture makes them
    assert where["rows"] == back.height == 12 * 4
    assert back.equals(res.medication_changes)
    events = pl.read_parquet(tmp_path / data["per_participant"]["ae_events"]["file"])
    assert events.height == 4  # the fixture's four adverse events
    assert not list(tmp_path.rglob("*.tmp"))
