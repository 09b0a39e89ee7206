import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from celltrial.analysis.medication import CATEGORIES, category_counts, dose_change


def test_dose_change_by_hand(study) -> None:
    # Fixture: metformin 2000 mg/day (WHO DDD 2 g -> 1.0 DDD) for all 12; insulin glargine
    # 30 U/day (DDD 40 U -> 0.75) for P00-P05, cut to 10 U/day (0.25) from day 28.
    ch = dose_change(study, ["d0", "d14", "d28", "d84"], "d0")
    p0 = ch.filter((pl.col("participant_id") == "P00") & (pl.col("visit_id") == "d28")).row(
        0, named=True
    )
    assert p0["baseline_ddd"] == pytest.approx(1.75)
    assert p0["total_ddd"] == pytest.approx(1.25)
    assert p0["pct_change"] == pytest.approx(100 * (1.25 - 1.75) / 1.75)
    assert p0["category"] == "reduced 10-50 %"
    assert p0["baseline_insulin_u_kg_day"] == pytest.approx(30 / 70)  # infusion weight 70 kg
    assert p0["insulin_u_kg_day"] == pytest.approx(10 / 70)
    p0_d14 = ch.filter((pl.col("participant_id") == "P00") & (pl.col("visit_id") == "d14"))
    assert p0_d14["category"].to_list() == ["unchanged (within 10 %)"]
    p9 = ch.filter((pl.col("participant_id") == "P09") & (pl.col("visit_id") == "d28"))
    assert p9["category"].to_list() == ["unchanged (within 10 %)"]


def test_category_counts_with_wilson_ci(study) -> None:
    ch = dose_change(study, ["d0", "d28"], "d0")
    counts = category_counts(ch, ["d28"])
    assert counts.height == len(CATEGORIES)
    red = counts.filter(pl.col("category") == "reduced 10-50 %").row(0, named=True)
    assert (red["count"], red["n"]) == (6, 12)
    lo, hi = proportion_confint(6, 12, alpha=0.05, method="wilson")
    assert (red["ci_low"], red["ci_high"]) == pytest.approx((lo, hi))


def test_unknown_drug_is_flagged_not_dropped(study) -> None:
    extra = study.medications.head(1).with_columns(
        pl.lit("herbal tea").alias("drug"), pl.lit(None, pl.Utf8).alias("atc_code")
    )
    s = study.with_table("medications", pl.concat([study.medications, extra]))
    ch = dose_change(s, ["d0", "d28"], "d0")
    first = ch.filter(pl.col("participant_id") == extra["participant_id"][0])
    assert first["category"].to_list() == [CATEGORIES[6]]
