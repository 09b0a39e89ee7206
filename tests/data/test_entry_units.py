"""An empty value cell keeps the unit typed beside it: only the value is reported missing."""

from __future__ import annotations

from celltrial.data import read_study, validate

HEADER = "participant_id,visit_id,time,analyte,value,unit,fasting,source\n"
# the new user's row: hba1c with its value cell empty and its unit given as %
EMPTY_VALUE = "P01,d84,2019-05-25 07:30,hba1c,,%,,lab\n"


def _study(tmp_path, rows: str):
    (tmp_path / "study.yaml").write_text("study_id: t\n")
    (tmp_path / "participants.csv").write_text(
        "participant_id,site_id,sex,enrollment_date\nP01,S1,F,2019-03-01\n"
    )
    (tmp_path / "measurements.csv").write_text(HEADER + rows)
    return read_study(tmp_path, check="skip")


def test_empty_value_is_the_only_missing_cell(tmp_path):
    study = _study(tmp_path, EMPTY_VALUE)
    # (visit d84 is not in a visits file here: that reference finding is not about cells)
    found = [(f.row, f.column, f.rule) for f in validate(study) if f.column in ("value", "unit")]
    assert found == [(1, "value", "required value missing")]
    m = study.measurements
    assert m["unit_as_entered"].to_list() == ["%"]  # as typed
    assert m["unit"].to_list() == ["%"]  # hba1c's canonical unit is % (no conversion)
    assert m["value"].to_list() == [None]


def test_the_unit_survives_beside_filled_rows_and_a_second_read(tmp_path):
    # a filled row first: the fast path for files whose every entry is complete must not apply
    study = _study(tmp_path, "P01,d0,2019-03-04 07:30,hba1c,7.8,%,,lab\n" + EMPTY_VALUE)
    assert study.measurements["unit_as_entered"].to_list() == ["%", "%"]
    rules = [(f.row, f.column) for f in validate(study) if f.column in ("value", "unit")]
    assert rules == [(2, "value")]


def test_duplicate_key_after_a_skipped_empty_row_names_file_rows(tmp_path):
    # data rows 1, 2 (all cells empty: skipped, numbering kept) and 3, which repeats row 1
    row = "P01,d0,2019-03-04 07:30,hba1c,7.8,%,,lab\n"
    study = _study(tmp_path, row + ",,,,,,,\n" + row)
    dup = [f for f in validate(study) if f.rule.startswith("duplicate key")]
    assert [f.row for f in dup] == [3]
    assert "row 1 has the same participant_id, analyte, time" in dup[0].rule
    assert dup[0].rule.endswith("(P01 / hba1c / 2019-03-04 07:30:00)")
