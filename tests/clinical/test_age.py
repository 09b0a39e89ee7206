"""One age across CellTrial: completed years on a date (clinical.derivations.age_on)."""

import datetime as dt

import polars as pl
import pytest

from celltrial.analysis.baseline import participant_covariates
from celltrial.clinical.derivations import age_on, derive_egfr
from celltrial.clinical.egfr import egfr_ckd_epi_2021
from celltrial.data.schema import empty_frame
from celltrial.data.study import StudyData, StudyMeta


def _people(rows: list[dict]) -> pl.DataFrame:
    return pl.concat([empty_frame("participants"), pl.DataFrame(rows)], how="diagonal_relaxed")


PEOPLE = _people(
    [
        # birthday the day after enrolment: 49 completed years, though 49.997 years old
        dict(participant_id="A", sex="F", birth_date=dt.date(1974, 3, 2),
             enrollment_date=dt.date(2024, 3, 1)),
        # birthday on the enrolment day: 50
        dict(participant_id="B", sex="F", birth_date=dt.date(1974, 3, 1),
             enrollment_date=dt.date(2024, 3, 1)),
        # only the age recorded at enrolment (52.6 recorded: 52 completed years)
        dict(participant_id="C", sex="M", age=52.6, enrollment_date=dt.date(2024, 3, 1)),
    ]
)  # fmt: skip


def test_age_on_dates_by_hand() -> None:
    on = pl.lit(dt.date(2024, 3, 1))
    assert PEOPLE.select(age_on(on))["literal"].to_list() == [49.0, 50.0, 52.0]
    # C, 731 days later: floor(52.6 + 731 / 365.25) = floor(54.60) = 54
    later = PEOPLE.select(age_on(pl.lit(dt.date(2026, 3, 1))))["literal"].to_list()
    assert later == [51.0, 52.0, 54.0]


def test_table_one_age_is_completed_years_at_enrolment() -> None:
    cov = participant_covariates(StudyData(StudyMeta("t"), participants=PEOPLE))
    assert cov["age"].to_list() == [49.0, 50.0, 52.0]


def test_egfr_uses_completed_years_at_the_sample() -> None:
    meas = pl.concat(
        [
            empty_frame("measurements"),
            pl.DataFrame(
                {
                    "participant_id": ["A", "B"],
                    "visit_id": ["d0", "d0"],
                    "time": [dt.datetime(2024, 3, 1, 8)] * 2,
                    "analyte": ["creatinine"] * 2,
                    "value": [88.42, 88.42],
                    "fasting": [True, True],
                }
            ),
        ],
        how="diagonal_relaxed",
    )
    got = derive_egfr(meas, PEOPLE).table.filter(pl.col("analyte") == "egfr")["value"].to_list()
    want = [egfr_ckd_epi_2021(88.42, 49.0, "F"), egfr_ckd_epi_2021(88.42, 50.0, "F")]
    assert got == pytest.approx(want, rel=1e-12)
    # a year of age is 0.9938 in CKD-EPI 2021 (Inker 2021): the two differ by that factor
    assert got[1] / got[0] == pytest.approx(0.9938, rel=1e-9)
