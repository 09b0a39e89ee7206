"""REDCap bad input: each problem is a finding (exit 1) or a clean refusal (exit 2) naming
the file, record and field, and nothing is written to the output folder."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redcap_centre import write_project
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.cli.exits import BAD_INPUT, FINDINGS
from celltrial.data import StudyReadError
from celltrial.data.redcap import (
    MappingError,
    import_redcap,
    load_mapping,
    read_csv_project,
    read_dictionary,
    read_records,
)
from celltrial.data.redcap.dates import iso_text
from celltrial.data.redcap.odm import read_project_xml

runner = CliRunner()
_register()
FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _import(files):
    project = read_csv_project(files["dictionary"], files["records"], files["events"])
    return import_redcap(project, load_mapping(files["mapping"]))


def _cli(files, out: Path):
    args = ["import", "redcap", "--dictionary", str(files["dictionary"])]
    args += ["--records", str(files["records"]), "--events", str(files["events"])]
    return runner.invoke(app, [*args, "--mapping", str(files["mapping"]), "--out", str(out)])


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))


def _line_of(file: Path, text: str) -> int:
    return next(i for i, line in enumerate(file.read_text().splitlines(), 1) if text in line)


# ---------------------------------------------------------------- the mapping


def test_mapping_naming_an_unknown_field_is_refused_at_its_line(tmp_path):
    files = write_project(tmp_path)
    _edit(files["mapping"], "birth_date: dob", "birth_date: dobb")
    with pytest.raises(MappingError) as exc:
        _import(files)
    (issue,) = exc.value.issues
    assert issue.line == _line_of(files["mapping"], "birth_date: dobb")
    assert issue.key == "tables.participants.columns.birth_date"
    assert "no field 'dobb'" in issue.message and "did you mean 'dob'" in issue.message


def test_mapping_naming_an_unknown_analyte_or_unit_is_refused_at_its_line(tmp_path):
    files = write_project(tmp_path)
    _edit(files["mapping"], "analyte: hba1c, unit: mmol/mol", "analyte: hbac1, unit: mmol/mol")
    _edit(files["mapping"], "analyte: fpg, unit: mg/dL", "analyte: fpg, unit: mg/L")
    with pytest.raises(MappingError) as exc:
        load_mapping(files["mapping"])
    issues = {i.key: i for i in exc.value.issues}
    assert issues["analytes[0].analyte"].line == _line_of(files["mapping"], "hbac1")
    assert "unknown analyte 'hbac1'" in issues["analytes[0].analyte"].message
    assert "unit 'mg/L' is not accepted for fpg" in issues["analytes[1]"].message


def test_mapping_with_an_unknown_event_or_form_is_refused(tmp_path):
    files = write_project(tmp_path)
    _edit(files["mapping"], "day_28_arm_1: d28", "day_29_arm_1: d28")
    _edit(files["mapping"], "form: labs", "form: lab")
    with pytest.raises(MappingError) as exc:
        _import(files)
    text = str(exc.value)
    assert "no event 'day_29_arm_1'" in text and "no form 'lab'" in text


def test_cli_refuses_a_bad_mapping_with_exit_2_and_writes_nothing(tmp_path):
    files = write_project(tmp_path / "in")
    _edit(files["mapping"], "height_cm: height", "height_cm: heigth")
    result = _cli(files, tmp_path / "out")
    assert result.exit_code == BAD_INPUT
    line = _line_of(files["mapping"], "heigth")
    assert f"mapping.yaml:{line}: key tables.participants.columns.height_cm" in result.output
    assert not (tmp_path / "out").exists()


def test_mapping_yaml_syntax_error_names_its_line(tmp_path):
    file = tmp_path / "m.yaml"
    file.write_text("study_id: x\nrecord_id: [record_id\n")
    with pytest.raises(MappingError) as exc:
        load_mapping(file)
    assert exc.value.issues[0].line == 3 and "YAML syntax" in exc.value.issues[0].message


# ---------------------------------------------------------------- the files


def test_bom_and_semicolons_give_the_same_study(tmp_path):
    plain = _import(write_project(tmp_path / "plain")).study
    files = write_project(tmp_path / "bom")
    files["records"].write_bytes(b"\xef\xbb\xbf" + files["records"].read_bytes())
    assert _import(files).study.participants.equals(plain.participants)
    files = write_project(tmp_path / "semicolon")
    files["records"].write_text(files["records"].read_text().replace(",", ";"))
    imported = _import(files)
    assert imported.study.measurements.equals(plain.measurements)
    assert any("separated by ';'" in f.rule for f in imported.findings)


def test_latin1_text_is_read_with_a_warning_at_its_row(tmp_path):
    files = write_project(tmp_path)
    text = files["records"].read_text().replace(",Fever,", ",Fièvre,")
    files["records"].write_bytes(text.encode("latin-1"))
    imported = _import(files)
    assert imported.study.adverse_events["term"].to_list() == ["Fièvre"]
    (warn,) = [f for f in imported.findings if "not UTF-8" in f.rule]
    assert warn.row == 3 and warn.file == str(files["records"])


def test_tab_separated_records_are_refused_naming_the_file(tmp_path):
    files = write_project(tmp_path / "in")
    files["records"].write_text(files["records"].read_text().replace(",", "\t"))
    with pytest.raises(StudyReadError, match="separated by tabs"):
        _import(files)
    result = _cli(files, tmp_path / "out")
    assert result.exit_code == BAD_INPUT and "records.csv" in result.output


def test_truncated_file_is_a_finding_and_nothing_is_written(tmp_path):
    files = write_project(tmp_path / "in")
    data = files["records"].read_bytes()
    files["records"].write_bytes(data[: data.rindex(b",200,") + 4])  # cut inside the last row
    imported = _import(files)
    (cut,) = [f for f in imported.findings if f.rule.startswith("row has")]
    assert cut.row == 4 and cut.severity == "error"
    result = _cli(files, tmp_path / "out")
    assert result.exit_code == FINDINGS and "nothing written" in result.output
    assert not (tmp_path / "out").exists()


def test_duplicate_record_rows_name_the_first(tmp_path):
    files = write_project(tmp_path)
    lines = files["records"].read_text().splitlines()
    files["records"].write_text("\n".join([*lines, lines[1]]) + "\n")
    dup = [f for f in _import(files).findings if "duplicate record" in f.rule]
    assert len(dup) == 1 and dup[0].row == 5 and dup[0].column == "record_id"
    assert "record 1, event baseline_arm_1: the same record, event and instance as row 1" in (
        dup[0].rule
    )


def test_records_of_another_dictionary_are_refused(tmp_path):
    files = write_project(tmp_path)
    _edit(files["dictionary"], "record_id,demographics", "study_no,demographics")
    with pytest.raises(StudyReadError, match="no column 'study_no', the record id"):
        _import(files)


def test_columns_the_dictionary_does_not_know_are_warnings(tmp_path):
    files = write_project(tmp_path)
    _edit(files["records"], "adverse_events_complete", "adverse_events_complete,bmi")
    found = [f for f in _import(files).findings if f.column == "bmi"]
    assert found[0].severity == "warning" and "not in the data dictionary" in found[0].rule


def test_dates_in_several_formats_and_an_impossible_one(tmp_path):
    files = write_project(tmp_path)
    _edit(files["records"], "12-04-1968", "1968-04-12")  # raw exports write Y-M-D
    _edit(files["records"], "30-09-1975", "30/09/1975")
    _edit(files["records"], "01-04-2019", "31.02.2019")  # 31 February
    imported = _import(files)
    births = imported.study.participants.sort("participant_id")["birth_date"].to_list()
    assert births == [dt.date(1968, 4, 12), dt.date(1975, 9, 30)]
    (bad,) = [f for f in imported.findings if f.severity == "error"]
    assert (bad.row, bad.column, bad.value) == (2, "lab_date", "31.02.2019")
    assert "not a date_dmy (DD-MM-YYYY" in bad.rule and "event day_28_arm_1" in bad.rule


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    files = write_project(tmp_path)
    dictionary = read_dictionary(files["dictionary"])
    with pytest.raises(StudyReadError, match="export the records in parts"):
        read_records(files["records"], dictionary, max_bytes=100)


def test_project_xml_with_entities_is_refused(tmp_path):
    xml = tmp_path / "project.xml"
    xml.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE ODM [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<ODM>&b;</ODM>\n'
    )
    with pytest.raises(StudyReadError, match="DOCTYPE or entity"):
        read_project_xml(xml)
    xml.write_text('<?xml version="1.0"?>\n<ODM><Study>')
    with pytest.raises(StudyReadError, match="not well-formed XML"):
        read_project_xml(xml)


# ---------------------------------------------------------------- properties


@FAST
@given(day=st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), sep=st.sampled_from("-/."))
def test_any_redcap_date_reads_as_itself(day, sep):
    shown = {
        "date_dmy": day.strftime(f"%d{sep}%m{sep}%Y"),
        "date_mdy": day.strftime(f"%m{sep}%d{sep}%Y"),
        "date_ymd": day.isoformat(),
    }
    for validation, text in shown.items():
        iso = pl.select(iso_text(pl.lit(text), validation)).item()
        assert iso == day.isoformat(), (validation, text)


@FAST
@given(
    junk=st.lists(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
        min_size=1,
        max_size=4,
    )
)
def test_garbage_rows_never_crash_the_import(tmp_path, junk):
    files = write_project(Path(tempfile.mkdtemp(dir=tmp_path)))
    with files["records"].open("a", encoding="utf-8") as fh:
        fh.write("\n".join(junk) + "\n")
    try:
        imported = _import(files)
    except StudyReadError as exc:  # a clean refusal names the file
        assert "records.csv" in str(exc)
        return
    assert imported.study.participants.height >= 2
