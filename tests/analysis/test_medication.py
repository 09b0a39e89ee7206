import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from celltrial.analysis.medication import (
    CATEGORIES,
    category_counts,
    dose_change,
    doses_at_visits,
    visit_dates,
)
from celltrial.clinical.dose_change import REDUCED, UNCHANGED
from celltrial.data.schema import empty_frame


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
    assert p0["category"] == REDUCED
    assert p0["baseline_insulin_u_kg_day"] == pytest.approx(30 / 70)  # infusion weight 70 kg
    assert p0["insulin_u_kg_day"] == pytest.approx(10 / 70)
    p0_d14 = ch.filter((pl.col("participant_id") == "P00") & (pl.col("visit_id") == "d14"))
    assert p0_d14["category"].to_list() == [UNCHANGED]
    p9 = ch.filter((pl.col("participant_id") == "P09") & (pl.col("visit_id") == "d28"))
    assert p9["category"].to_list() == [UNCHANGED]


def test_category_counts_with_wilson_ci(study) -> None:
    ch = dose_change(study, ["d0", "d28"], "d0")
    counts = category_counts(ch, ["d28"])
    assert counts.height == len(CATEGORIES)
    red = counts.filter(pl.col("category") == REDUCED).row(0, named=True)
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


def _table(table: str, rows: dict) -> pl.DataFrame:
    return pl.concat([empty_frame(table), pl.DataFrame(rows)], how="diagonal_relaxed")


def _dates_study(study, visits: dict, meas: dict):
    return study.with_table("visits", _table("visits", visits)).with_table(
        "measurements", _table("measurements", meas)
    )


def _at(day: int, hour: int = 8) -> dt.datetime:
    return dt.datetime(2024, 1, 8, hour) + dt.timedelta(days=day)


def test_visit_dates_actual_date_else_first_measurement(study) -> None:
    # Measurements out of visits-table order, so the anti-join path settles every pair.
    s = _dates_study(
        study,
        {
            "participant_id": ["P1", "P1", "P2", "P2"],
            "visit_id": ["d0", "d14", "d0", "d14"],
            "actual_date": [dt.date(2024, 1, 8), None, dt.date(2024, 1, 10), None],
        },
        {
            "participant_id": ["P1", "P1", "P1", "P2", "P3", "P3", "P4", "P2"],
            "visit_id": ["d14", "d0", "d14", "d0", "d0", "d0", "d0", None],
            "time": [_at(15), _at(0), _at(14, 9), _at(1, 7), _at(24), None, None, _at(-30)],
        },
    )
    # P1 d0, P2 d0: dated visits keep their date (P2's measurement a day earlier is ignored).
    # P1 d14: undated; its two runs start 2024-01-23 and 2024-01-22 -> 2024-01-22.
    # P2 d14: undated, never measured -> no row. P3 d0: only measured, 2024-02-01 (null time
    # skipped). P4 d0: every time null -> null date. P2's row without a visit_id is ignored.
    expected = [
        ("P1", "d0", dt.date(2024, 1, 8)),
        ("P2", "d0", dt.date(2024, 1, 10)),
        ("P1", "d14", dt.date(2024, 1, 22)),
        ("P3", "d0", dt.date(2024, 2, 1)),
        ("P4", "d0", None),
    ]
    assert visit_dates(s).rows() == expected
    assert visit_dates(s, ["d14"]).rows() == [("P1", "d14", dt.date(2024, 1, 22))]


def test_visit_dates_in_visits_order_keep_actual_dates(study) -> None:
    # Measurements stored in visits-table order (the positional path), a day before each
    # actual date, plus a trailing pair (P1 d28) the visits table does not know.
    s = _dates_study(
        study,
        {
            "participant_id": ["P1", "P1"],
            "visit_id": ["d0", "d14"],
            "actual_date": [dt.date(2024, 1, 8), dt.date(2024, 1, 22)],
        },
        {
            "participant_id": ["P1", "P1", "P1", "P1"],
            "visit_id": ["d0", "d0", "d14", "d28"],
            "time": [_at(-1), _at(-1, 9), _at(13), _at(28)],
        },
    )
    assert visit_dates(s).rows() == [
        ("P1", "d0", dt.date(2024, 1, 8)),
        ("P1", "d14", dt.date(2024, 1, 22)),
        ("P1", "d28", dt.date(2024, 2, 5)),
    ]


def _reference_visit_dates(visits: pl.DataFrame, meas: pl.DataFrame) -> pl.DataFrame:
    """The docstring's rule written directly: group every measurement by pair, full join."""
    from_visits = visits.filter(pl.col("actual_date").is_not_null()).select(
        "participant_id", "visit_id", pl.col("actual_date").alias("date")
    )
    from_meas = (
        meas.filter(pl.col("visit_id").is_not_null())
        .group_by("participant_id", "visit_id")
        .agg(pl.col("time").min().dt.date().alias("date"))
    )
    return from_visits.join(
        from_meas, on=["participant_id", "visit_id"], how="full", coalesce=True, suffix="_m"
    ).select("participant_id", "visit_id", pl.coalesce("date", "date_m").alias("date"))


_ids = st.sampled_from(["P1", "P2", None])
_vids = st.sampled_from(["d0", "d14", None])
_dates = st.one_of(st.none(), st.integers(0, 20).map(lambda d: dt.date(2024, 1, 1 + d)))
_times = st.one_of(st.none(), st.integers(0, 20 * 24).map(lambda h: _at(0) + dt.timedelta(hours=h)))


def _rows(table: str, names: tuple[str, ...], rows: list[tuple]) -> pl.DataFrame:
    schema = empty_frame(table).schema
    frame = pl.DataFrame(rows, schema={n: schema[n] for n in names}, orient="row")
    return _table(table, frame.to_dict())


# the fixture is only read (with_table returns a new study), so sharing it is safe
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    vrows=st.lists(st.tuples(_ids, _vids, _dates), max_size=6),
    mrows=st.lists(st.tuples(_ids, _vids, _times), max_size=10),
)
def test_visit_dates_match_the_direct_rule(study, vrows, mrows) -> None:
    visits = _rows("visits", ("participant_id", "visit_id", "actual_date"), vrows)
    meas = _rows("measurements", ("participant_id", "visit_id", "time"), mrows)
    got = visit_dates(study.with_table("visits", visits).with_table("measurements", meas))
    want = _reference_visit_dates(visits, meas)
    assert sorted(got.rows(), key=repr) == sorted(want.rows(), key=repr)


def test_weight_on_the_visit_else_earlier_else_later_else_infusion(study) -> None:
    # P00 weighed 72 kg on d0 and 80 kg on d14 (stored in reverse): d0 -> 72, d14 -> 80,
    # d28 -> 80 (latest earlier). P01 weighed only on d14 (85 kg; 90 kg without a time is not
    # placed): d0 -> 85 (the earliest later one), d28 -> 85. P02 never weighed -> 70 kg from
    # the infusion record (fixture).
    weights = pl.DataFrame(
        {
            "participant_id": ["P00", "P00", "P01", "P01"],
            "time": [_at(14), _at(0), _at(14), None],
            "analyte": ["weight"] * 4,
            "value": [80.0, 72.0, 85.0, 90.0],
        }
    )
    meas = pl.concat([study.measurements, weights], how="diagonal_relaxed")
    doses = doses_at_visits(study.with_table("measurements", meas), ["d0", "d14", "d28"])
    got = {(p, v): w for p, v, w in doses.select("participant_id", "visit_id", "weight_kg").rows()}
    assert [got["P00", v] for v in ("d0", "d14", "d28")] == [72.0, 80.0, 80.0]
    assert [got["P01", v] for v in ("d0", "d14", "d28")] == [85.0, 85.0, 85.0]
    assert [got["P02", v] for v in ("d0", "d14", "d28")] == [70.0, 70.0, 70.0]
    assert doses.columns[-2:] == ["weight_kg", "insulin_u_kg_day"]
    p00 = doses.filter(pl.col("participant_id") == "P00").sort("visit_id")
    # 30 U/day glargine until d27, 10 U/day from d28 (fixture)
    assert p00["insulin_u_kg_day"].to_list() == pytest.approx([30 / 72, 30 / 80, 10 / 80])


def test_weight_when_everyone_is_weighed_ignores_infusions(study) -> None:
    # All 12 weighed once on d0: P00 at 60 kg ... P11 at 71 kg; the 70 kg infusion records
    # must not be used, so P00's baseline insulin is 30 U/day / 60 kg = 0.5 U/kg/day.
    ids = [f"P{i:02d}" for i in range(12)]
    weights = pl.DataFrame(
        {
            "participant_id": ids,
            "time": [_at(0)] * 12,
            "analyte": ["weight"] * 12,
            "value": [60.0 + i for i in range(12)],
        }
    )
    meas = pl.concat([study.measurements, weights], how="diagonal_relaxed")
    doses = doses_at_visits(study.with_table("measurements", meas), ["d0", "d28"])
    got = dict(
        doses.filter(pl.col("visit_id") == "d0").select("participant_id", "weight_kg").rows()
    )
    assert got == {p: 60.0 + i for i, p in enumerate(ids)}
    assert doses.columns[-2:] == ["weight_kg", "insulin_u_kg_day"]
    p00 = doses.filter(pl.col("participant_id") == "P00").sort("visit_id")
    assert p00["insulin_u_kg_day"].to_list() == pytest.approx([0.5, 10 / 60])


def test_insulin_named_without_atc_code_is_insulin_in_analysis_and_derivation(study) -> None:
    # The example that disagreed: "insulin glargine" with no ATC code, 20 U/day from before
    # d0, participant weighed 40 kg on d0. derive_insulin_u_per_kg gave 0.5 U/kg/day and the
    # analysis 0.0 (it read insulin from the ATC column only). One definition now: ATC A10A,
    # from the row's code else the catalogue's code for the name; the weight on the date.
    from celltrial.clinical.derivations import derive_insulin_u_per_kg

    meds = _table(
        "medications",
        {
            "participant_id": ["P00"],
            "drug": ["insulin glargine"],
            "atc_code": [None],
            "daily_dose": [20.0],
            "dose_unit": ["U"],
            "start_date": [dt.date(2024, 1, 8)],  # d0 (fixture START)
        },
    )
    weight = pl.DataFrame(
        {"participant_id": ["P00"], "time": [_at(0)], "analyte": ["weight"], "value": [40.0]}
    )
    meas = pl.concat([study.measurements, weight], how="diagonal_relaxed")
    s = study.with_table("medications", meds).with_table("measurements", meas)
    derived = derive_insulin_u_per_kg(meds, meas, study.infusions)
    assert derived.table["insulin_u_per_kg"].to_list() == [pytest.approx(20 / 40)]
    doses = doses_at_visits(s, ["d0"]).filter(pl.col("participant_id") == "P00").row(0, named=True)
    assert doses["insulin_u_kg_day"] == pytest.approx(20 / 40)
    assert doses["insulin_ddd"] == pytest.approx(20 / 40)  # WHO DDD of insulin: 40 U
    assert doses["non_insulin_ddd"] == 0.0


def test_dose_summary_reports_insulin_and_non_insulin_apart(study) -> None:
    # Fixture: metformin 2000 mg (1.0 DDD) for all 12; P00-P05 also glargine 30 U/day (0.75
    # DDD) until d27, 10 U/day from d28; weight 70 kg from the infusion records.
    import numpy as np

    from celltrial.analysis.medication import dose_summary

    visits = ["d0", "d28"]
    got = dose_summary(doses_at_visits(study, visits), visits, "d0")
    row = {(r["visit_id"], r["component"]): r for r in got.iter_rows(named=True)}

    def quartiles(values: list[float]) -> list[float]:
        return list(np.quantile(values, [0.25, 0.5, 0.75], method="weibull"))

    total_d28 = [1.25] * 6 + [1.0] * 6
    t = row["d28", "total_ddd"]
    assert t["n"] == 12
    assert [t["q1"], t["median"], t["q3"]] == pytest.approx(quartiles(total_d28))
    ins = row["d28", "insulin_u_kg_day"]  # only the 6 on insulin at baseline
    assert (ins["n"], ins["median"]) == (6, pytest.approx(10 / 70))
    assert row["d0", "insulin_u_kg_day"]["mean"] == pytest.approx(30 / 70)
    oral = row["d28", "non_insulin_ddd"]
    assert (oral["n"], oral["median"], oral["sd"]) == (12, 1.0, 0.0)
    assert got.height == 6  # every component x visit, each component in visit order
    assert got["visit_id"].to_list() == ["d0", "d28"] * 3
    assert got["component"].to_list()[::2] == ["total_ddd", "insulin_u_kg_day", "non_insulin_ddd"]
