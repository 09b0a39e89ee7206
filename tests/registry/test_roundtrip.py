"""Folder -> registry -> folder gives back every table cell by cell: the shipped small
study, a simulated Lian 2022 trial and a simulated 218-participant Chin 2025 registry."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from celltrial.data import read_study, write_study
from celltrial.registry.services.exporting import export_study
from celltrial.registry.services.importing import store_study
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials


def simulated(preset: str, tmp_path, seed: int = 3):
    p = load_preset(preset)
    study = build_study(simulate_trials(p, 1, p.n_patients, seed), 0, seed)
    return write_study(study, tmp_path / preset)


def assert_same_study(original, copy):
    assert copy.meta == original.meta
    for name, frame in original.tables().items():
        assert_frame_equal(getattr(copy, name), frame, check_exact=True), name


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["small-study", "lian2022", "chin2025"])
def test_round_trip_is_lossless(source, tmp_path, small_study_dir):
    folder = small_study_dir if source == "small-study" else simulated(source, tmp_path)
    original = read_study(folder)
    if source == "chin2025":
        assert original.participants.height == 218  # Chin 2025: 218 patients (C4)
    stored = store_study(original)
    back = read_study(export_study(stored, tmp_path / "export"))
    assert_same_study(original, back)
    assert original.measurements.height > 0


@pytest.mark.django_db
def test_deidentified_export_hides_ids_dates_and_text(tmp_path, small_study_dir):
    original = read_study(small_study_dir)
    stored = store_study(original)
    out = read_study(export_study(stored, tmp_path / "deid", deidentified=True))
    ids = set(original.participants["participant_id"])
    assert not ids & set(out.participants["participant_id"])
    assert not ids & set(out.measurements["participant_id"])
    assert out.participants["withdrawal_reason"].null_count() == out.participants.height

    # one offset per participant: every interval within a participant is kept
    def intervals(study):
        first = study.participants.select("participant_id", "enrollment_date")
        days = study.measurements.join(first, on="participant_id").select(
            (pl.col("time").dt.date() - pl.col("enrollment_date")).dt.total_days()
        )
        return sorted(days.to_series().to_list())

    assert intervals(out) == intervals(original)
    assert out.measurements["time"].to_list() != original.measurements["time"].to_list()
    # the same pseudonyms on a second export (stable)
    again = read_study(export_study(stored, tmp_path / "deid2", deidentified=True))
    assert (
        again.participants["participant_id"].to_list()
        == out.participants["participant_id"].to_list()
    )
