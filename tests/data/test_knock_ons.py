"""A missing key column or table is reported once, first, and not echoed by every row that
refers to it (issue 10: a missing key column reported first, without knock-on findings)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from celltrial.data import read_study, validate
from celltrial.data.findings import MISSING_COLUMN, errors_first

SMALL = Path(__file__).parents[2] / "examples" / "small-study"
# tables of small-study that refer to participants by participant_id
REFERRING = ["screening", "infusions", "visits", "measurements", "medications", "adverse_events"]


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(SMALL, folder)
    return folder


def _rows(folder: Path, table: str) -> int:
    return pl.read_csv(folder / f"{table}.csv", infer_schema=False).height


def _errors(folder: Path) -> pl.DataFrame:
    found = validate(read_study(folder, check="skip")).frame
    return found.filter(pl.col("severity") == "error")


def test_missing_participant_id_column_is_the_only_error(tmp_path):
    folder = _copy(tmp_path)
    file = folder / "participants.csv"
    pl.read_csv(file, infer_schema=False).drop("participant_id").write_csv(file)
    errors = _errors(folder)
    # before: 327 'unknown participant' errors, one per row of the other tables
    assert errors.select("table", "column", "rule").rows() == [
        ("participants", "participant_id", MISSING_COLUMN)
    ]


@pytest.mark.parametrize("key", ["participant_id", "visit_id"])
def test_missing_visit_key_column_gives_no_unknown_visits(tmp_path, key):
    folder = _copy(tmp_path)
    file = folder / "visits.csv"
    pl.read_csv(file, infer_schema=False).drop(key).write_csv(file)
    assert _errors(folder).select("table", "column", "rule").rows() == [
        ("visits", key, MISSING_COLUMN)
    ]


def test_no_participants_file_is_one_error_per_referring_table(tmp_path):
    folder = _copy(tmp_path)
    (folder / "participants.csv").unlink()
    errors = _errors(folder)
    assert sorted(errors["table"].to_list()) == sorted(REFERRING)
    for table in REFERRING:
        rule = errors.filter(pl.col("table") == table)["rule"].item()
        n = _rows(folder, table)
        assert rule.startswith(f"{n} rows name a participant, but the study has no participants")


def test_no_visits_file_is_one_error_for_the_measurements(tmp_path):
    folder = _copy(tmp_path)
    (folder / "visits.csv").unlink()
    m = pl.read_csv(folder / "measurements.csv", infer_schema=False)
    with_visit = m.filter(pl.col("visit_id").is_not_null()).height
    errors = _errors(folder)
    assert errors.select("table", "column").rows() == [("measurements", "visit_id")]
    assert errors["rule"].item().startswith(f"{with_visit} rows name a visit")


def test_missing_column_is_listed_before_the_errors_of_earlier_files(tmp_path):
    folder = _copy(tmp_path)
    bad = folder / "adverse_events.csv"  # sorts before visits.csv
    ae = pl.read_csv(bad, infer_schema=False)
    ae.with_columns(pl.lit("2019-01-01 00:00").alias("end_time")).write_csv(bad)  # before onset
    file = folder / "visits.csv"
    pl.read_csv(file, infer_schema=False).drop("visit_id").write_csv(file)
    ordered = errors_first(validate(read_study(folder, check="skip")))
    assert (ordered[0].table, ordered[0].rule) == ("visits", MISSING_COLUMN)
    assert ordered[1].table == "adverse_events"
