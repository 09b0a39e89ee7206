"""Frames assembled from many pieces (as the simulator and importers build them) validate
the same as their one-chunk copy."""

from datetime import date, datetime

import polars as pl

from celltrial.data import StudyData, StudyMeta, validate


def _measurements(pid: str, value: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "participant_id": [pid],
            "time": [datetime(2024, 1, 1, 8, 0)],
            "analyte": ["hba1c"],
            "value": [value],
            "unit": ["%"],
            "value_as_entered": [str(value)],
            "unit_as_entered": ["%"],
        }
    )


def test_many_chunk_measurements_give_the_one_chunk_findings():
    participants = pl.DataFrame(
        {
            "participant_id": [f"P{i}" for i in range(40)],
            "site_id": ["S1"] * 40,
            "sex": ["F"] * 40,
            "enrollment_date": [date(2023, 12, 1)] * 40,
        }
    )
    # 3.0 % is below the plausible 4.0 % floor of HbA1c: a warning for every odd participant
    pieces = [_measurements(f"P{i}", 3.0 if i % 2 else 7.5) for i in range(40)]
    chunked = pl.concat(pieces, rechunk=False)
    assert chunked.n_chunks() > 1
    one = StudyData(StudyMeta("s"), participants=participants, measurements=chunked.rechunk())
    many = StudyData(StudyMeta("s"), participants=participants, measurements=chunked)
    assert validate(many).frame.equals(validate(one).frame)
    assert validate(many).warnings == 20
