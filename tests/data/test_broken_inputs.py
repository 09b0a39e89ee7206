"""Broken inputs never crash: each gives findings or a StudyReadError (CLI exit 2)."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celltrial.clinical.analytes import ANALYTES
from celltrial.data import StudyReadError, read_study, validate
from celltrial.data.schema import TABLES

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
COLUMNS = {name: [c.name for c in t.columns] for name, t in TABLES.items()}


def _folder(tmp: Path, files: dict[str, bytes]) -> Path:
    folder = Path(tempfile.mkdtemp(dir=tmp))  # hypothesis may replay the same example
    (folder / "study.yaml").write_text("study_id: fuzz\n")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def _read_and_validate(folder: Path):
    """The contract: StudyReadError with the file named, or findings; nothing else."""
    try:
        study = read_study(folder, check="skip")
    except StudyReadError as exc:
        assert str(folder) in str(exc)
        return None
    return validate(study)


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_a_star_header_is_an_unknown_column_not_every_column(tmp_path, table):
    # hypothesis found b"*": Polars select() reads the name "*" as a wildcard
    found = _read_and_validate(_folder(tmp_path, {f"{table}.csv": b"*"}))
    unknown = [(f.column, f.rule) for f in found if f.rule.startswith("unknown column")]
    assert unknown == [("*", "unknown column (kept as text)")]


@FAST
@given(table=st.sampled_from(sorted(TABLES)), data=st.binary(max_size=400))
def test_garbage_bytes(tmp_path, table, data):
    _read_and_validate(_folder(tmp_path, {f"{table}.csv": data}))


@FAST
@given(table=st.sampled_from(sorted(TABLES)), data=st.binary(max_size=200))
def test_garbage_parquet(tmp_path, table, data):
    # not Parquet bytes: the read error names the file
    with pytest.raises(StudyReadError, match=f"{table}.parquet"):
        read_study(_folder(tmp_path, {f"{table}.parquet": data}), check="skip")


@FAST
@given(
    table=st.sampled_from(sorted(TABLES)),
    data=st.data(),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-8-sig"]),
)
def test_any_text_in_any_cell(tmp_path, table, data, encoding):
    header = data.draw(
        st.lists(st.sampled_from(COLUMNS[table]), min_size=1, unique=True), label="header"
    )
    cell = st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\x00"), max_size=12)
    rows = data.draw(
        st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), max_size=6)
    )
    text = _csv(header, rows)
    findings = _read_and_validate(_folder(tmp_path, {f"{table}.csv": text.encode(encoding)}))
    assert findings is None or all(f.table == table for f in findings)


@FAST
@given(unit=st.text(min_size=1, max_size=8).filter(lambda u: u.strip() and "\x00" not in u))
def test_unknown_units_are_errors_unless_accepted(tmp_path, unit):
    text = _csv(
        ["participant_id", "time", "analyte", "value", "unit"],
        [["P1", "2020-01-02 08:00", "fpg", "7.0", unit]],
    )
    participants = "participant_id,site_id,sex,enrollment_date\nP1,S1,F,2020-01-01\n"
    folder = _folder(
        tmp_path,
        {"measurements.csv": text.encode(), "participants.csv": participants.encode()},
    )
    findings = validate(read_study(folder, check="skip"))
    accepted = {u.lower() for u in ANALYTES["fpg"].accepted_units()}
    unit_errors = [f for f in findings if f.rule.startswith("unit as entered is not accepted")]
    # csv quoting keeps the unit as typed; reading strips surrounding blanks
    assert (len(unit_errors) == 0) == (unit.strip().lower() in accepted)


def test_latin1_bytes_are_read_with_a_warning_naming_the_row(tmp_path):
    text = "participant_id,site_id,sex,enrollment_date,withdrawal_reason\n"
    data = text.encode() + "P1,S1,F,2020-01-01,\nP2,S1,M,2020-01-01,mudanza a León\n".encode(
        "latin-1"
    )
    study = read_study(_folder(tmp_path, {"participants.csv": data}), check="skip")
    assert study.participants["withdrawal_reason"][1] == "mudanza a León"
    (warning,) = list(validate(study))
    assert (warning.severity, warning.row, warning.table) == ("warning", 2, "participants")


def test_empty_file_is_an_empty_table_with_a_warning(tmp_path):
    study = read_study(_folder(tmp_path, {"lots.csv": b""}), check="skip")
    assert study.lots.height == 0 and study.lots.schema == pl.Schema(TABLES["lots"].polars_schema)
    assert [f.rule for f in validate(study)] == ["file is empty; read as no rows"]


def test_wrong_types_name_row_column_and_value(tmp_path):
    text = _csv(
        ["participant_id", "site_id", "sex", "enrollment_date", "height_cm"],
        [["P1", "S1", "F", "2020-01-01", "165"], ["P2", "S1", "M", "01/02/2020", "tall"]],
    )
    findings = validate(
        read_study(_folder(tmp_path, {"participants.csv": text.encode()}), check="skip")
    )
    assert [(f.row, f.column, f.value, f.rule) for f in findings] == [
        (2, "enrollment_date", "01/02/2020", "not a date (YYYY-MM-DD)"),
        (2, "height_cm", "tall", "not a number"),
    ]
    assert all(f.file and f.file.endswith("participants.csv") for f in findings)


def test_missing_required_column_is_one_finding_not_one_per_row(tmp_path):
    text = _csv(["participant_id", "site_id", "sex"], [["P1", "S1", "F"], ["P2", "S1", "M"]])
    findings = validate(
        read_study(_folder(tmp_path, {"participants.csv": text.encode()}), check="skip")
    )
    assert [(f.row, f.column, f.rule) for f in findings] == [
        (None, "enrollment_date", "required column missing")
    ]
