"""Files as spreadsheets save them (issue 3): empty trailing rows, semicolon separators and
decimal commas (European Excel), short rows, and findings that name the user's own columns."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celltrial.data import read_study, validate

FAST = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PARTICIPANTS = "participant_id,site_id,sex,enrollment_date\nP1,S1,F,2020-01-01\n"


def _folder(tmp: Path, files: dict[str, str | bytes]) -> Path:
    folder = Path(tempfile.mkdtemp(dir=tmp))  # hypothesis may replay the same example
    (folder / "study.yaml").write_text("study_id: sheet\n")
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def _found(folder: Path) -> list[tuple]:
    return [
        (f.severity, f.row, f.column, f.value, f.rule)
        for f in validate(read_study(folder, check="skip"))
    ]


# ---------------------------------------------------------------- empty rows (item 3)


def test_excel_empty_rows_are_skipped_with_one_warning(tmp_path):
    text = (
        "participant_id,site_id,sex,enrollment_date\n"
        "P1,S1,F,2020-01-01\n"
        ",,,\n"  # row 2: saved by Excel
        "P2,S1,M,2020-13-01\n"  # row 3: a real error, keeps its own row number
        " , ,\t,\n"  # row 4: whitespace only
        "\n"  # row 5: a blank line
        "P3,S1,X,2020-01-01\n"  # row 6
        ",,,\n,,,\n"  # rows 7, 8
    )
    study = read_study(_folder(tmp_path, {"participants.csv": text}), check="skip")
    assert study.participants["participant_id"].to_list() == ["P1", "P2", "P3"]
    assert _found(_folder(tmp_path, {"participants.csv": text})) == [
        ("warning", 2, None, None, "5 rows with every cell empty were skipped (first at row 2)"),
        ("error", 3, "enrollment_date", "2020-13-01", "not a date (YYYY-MM-DD)"),
        ("error", 6, "sex", "X", "sex must be M or F"),
    ]


@FAST
@given(data=st.data(), n=st.integers(1, 25))
def test_random_empty_rows_keep_every_other_row_number(tmp_path, data, n):
    # rows P<i> with a bad sex code "X" at random places, empty rows between them: each
    # sex error must name the row the record has in the file (counted by hand below)
    lines, bad_rows = [], []
    for i in range(n):
        for _ in range(data.draw(st.integers(0, 2), label="blank")):
            lines.append(data.draw(st.sampled_from([",,,", "", " , , , ", ",,"]), label="kind"))
        sex = data.draw(st.sampled_from(["F", "X"]), label="sex")
        lines.append(f"P{i},S1,{sex},2020-01-01")
        if sex == "X":
            bad_rows.append(len(lines))  # 1-based data row: lines after the header
    text = "participant_id,site_id,sex,enrollment_date\n" + "\n".join(lines) + "\n"
    found = _found(_folder(tmp_path, {"participants.csv": text}))
    assert [f[1] for f in found if f[4] == "sex must be M or F"] == bad_rows
    blanks = len(lines) - n
    warnings = [f for f in found if f[0] == "warning"]
    assert len(warnings) == (1 if blanks else 0)
    assert not [f for f in found if f[4] == "required value missing"]


def test_unterminated_quote_row_is_not_taken_for_an_empty_row(tmp_path):
    text = 'participant_id,site_id,sex,enrollment_date\nP1,"S1,F,2020-01-01\n,,,\n'
    found = _found(_folder(tmp_path, {"participants.csv": text}))
    assert [(f[0], f[1]) for f in found] == [("error", 1), ("warning", 2)]


# ---------------------------------------------------------------- short rows (item 7)


def test_short_rows_are_findings_like_long_rows(tmp_path):
    text = (
        "participant_id,site_id,sex,enrollment_date,withdrawal_reason\n"
        "P1,S1,F,2020-01-01,\n"  # 5 fields, the last one empty: fine
        "P2,S1,M\n"  # row 2: 3 fields
        "P3,S1,F,2020-01-01,moved\n"
    )
    found = _found(_folder(tmp_path, {"participants.csv": text}))
    assert found == [
        (
            "error",
            2,
            None,
            None,
            "row has 3 fields, header has 5; missing fields were read as empty",
        )
    ]


def test_short_rows_in_a_file_with_quotes(tmp_path):
    text = (
        "participant_id,site_id,sex,enrollment_date\n"
        'P1,"site, one\nsecond line",F,2020-01-01\n'  # a quoted newline: one record
        "P2,S1\n"  # row 2: 2 fields
        "P3,S1,F,2020-01-01,extra\n"  # row 3: 5 fields (the malformed path)
    )
    found = _found(_folder(tmp_path, {"participants.csv": text}))
    assert [(f[1], f[4].split(";")[0]) for f in found] == [
        (2, "row has 2 fields, header has 4"),
        (3, "row has 5 fields, header has 4"),
    ]


# ---------------------------------------------------------------- separators (item 5)


def test_semicolon_file_is_read_with_a_warning_and_decimal_commas(tmp_path):
    measurements = (
        "participant_id;time;analyte;value;unit\n"
        "P1;2020-01-02 08:00;fpg;7,2;mmol/L\n"
        "P1;2020-01-03 08:00;hba1c;7.5;%\n"
        "P1;2020-01-04 08:00;fpg;sieben;mmol/L\n"
    )
    folder = _folder(tmp_path, {"measurements.csv": measurements, "participants.csv": PARTICIPANTS})
    study = read_study(folder, check="skip")
    assert study.measurements["value"].to_list() == [pytest.approx(7.2), 7.5, None]
    found = _found(folder)
    assert [(f[0], f[1], f[2]) for f in found] == [
        ("warning", None, None),
        ("warning", None, "value"),
        ("error", 3, "value"),
    ]
    assert "separated by ';'" in found[0][4]
    assert "decimal comma" in found[1][4]


def test_semicolon_participants_with_decimal_height(tmp_path):
    text = "participant_id;site_id;sex;enrollment_date;height_cm\nP1;S1;F;2020-01-01;162,5\n"
    study = read_study(_folder(tmp_path, {"participants.csv": text}), check="skip")
    assert study.participants["height_cm"].to_list() == [162.5]
    assert study.participants["site_id"].to_list() == ["S1"]


def test_a_comma_file_with_semicolons_in_one_column_name_is_not_switched(tmp_path):
    text = "participant_id,site_id,sex,enrollment_date,a;b\nP1,S1,F,2020-01-01,x\n"
    found = _found(_folder(tmp_path, {"participants.csv": text}))
    assert [(f[2], f[4]) for f in found] == [
        ("a;b", "unknown column (kept as text); the file must be separated by commas")
    ]


# ---------------------------------------------------------------- column names (item 4)


def test_findings_name_the_entry_columns_the_file_has(tmp_path):
    text = (
        "participant_id,time,analyte,value,unit\n"
        "P1,2020-01-02 08:00,fpg,seven,mmol/L\n"
        "P1,2020-01-03 08:00,fpg,7.0,mg\n"
    )
    files = {"measurements.csv": text, "participants.csv": PARTICIPANTS}
    found = _found(_folder(tmp_path, files))
    assert sorted((f[1], f[2], f[3]) for f in found) == [(1, "value", "seven"), (2, "unit", "mg")]


def test_findings_name_value_when_the_file_has_only_the_entry_columns(tmp_path):
    text = (
        "participant_id,time,analyte,value_as_entered,unit_as_entered\n"
        "P1,2020-01-02 08:00,fpg,-5,mmol/L\n"
        "P1,2020-01-03 08:00,fpg,seven,mmol/L\n"
    )
    files = {"measurements.csv": text, "participants.csv": PARTICIPANTS}
    found = _found(_folder(tmp_path, files))
    # -5 mmol/L is outside the possible range (a finding on `value`), "seven" not a number
    assert sorted((f[1], f[2]) for f in found) == [(1, "value_as_entered"), (2, "value_as_entered")]


def test_decimal_comma_in_a_comma_file_says_how_to_fix_it(tmp_path):
    participants = (
        "participant_id,site_id,sex,enrollment_date,height_cm\n"
        'P1,S1,F,2020-01-01,"162,5"\nP2,S1,M,2020-01-01,tall\n'
    )
    measurements = 'participant_id,time,analyte,value,unit\nP1,2020-01-02 08:00,fpg,"7,2",mmol/L\n'
    found = _found(
        _folder(tmp_path, {"participants.csv": participants, "measurements.csv": measurements})
    )
    hint = " (decimal comma: write 7.5, not 7,5)"
    assert sorted((f[1], f[2], f[3], f[4]) for f in found) == [
        (1, "height_cm", "162,5", "not a number" + hint),
        (1, "value", "7,2", "value as entered is not a number" + hint),
        (2, "height_cm", "tall", "not a number"),
    ]


def test_semicolon_file_with_malformed_rows_names_each_row(tmp_path):
    # the byte scans count ';' in a semicolon file: rows 1-4 counted by hand
    text = (
        b"participant_id;site_id;sex;enrollment_date\r\n"
        b'P1;"S1;F;2020-01-01\r\n'  # row 1: quote never closed
        b"P2;S1;M;2020-01-01;x\r\n"  # row 2: 5 fields
        b"P3;S1\r\n"  # row 3: 2 fields
        b";;;\r\n"  # row 4: empty
        b"P5;S1;F;2020-01-01\r\n"
    )
    folder = _folder(tmp_path, {"participants.csv": text})
    assert read_study(folder, check="skip").participants["participant_id"].to_list() == [
        None,
        "P2",
        "P3",
        "P5",
    ]
    assert [(f[0], f[1], f[4].split(";")[0]) for f in _found(folder)] == [
        ("warning", None, "the file is separated by '"),
        ("error", 1, "unterminated quote starting at row 1"),
        ("error", 2, "row has 5 fields, header has 4"),
        ("error", 3, "row has 2 fields, header has 4"),
        ("warning", 4, "1 row with every cell empty was skipped (at row 4)"),
    ]
