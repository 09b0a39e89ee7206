"""REDCap in: a centre's project (tests/exchange/redcap_centre.py) read raw and labelled, values
checked against hand-computed conversions (catalogue sources in clinical/analytes.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import yaml
from redcap_centre import write_project

from celltrial.data.redcap import import_redcap, load_mapping, read_csv_project


def _import(files):
    project = read_csv_project(files["dictionary"], files["records"], files["events"])
    return import_redcap(project, load_mapping(files["mapping"]))


@pytest.fixture
def imported(tmp_path):
    return _import(write_project(tmp_path))


def _value(study, participant, visit, analyte) -> float:
    m = study.measurements.filter(
        (pl.col("participant_id") == participant)
        & (pl.col("visit_id") == visit)
        & (pl.col("analyte") == analyte)
    )
    assert m.height == 1
    return m["value"][0]


def test_wide_lab_form_becomes_canonical_measurements(imported):
    s = imported.study
    # NGSP % = 0.09148 * IFCC + 2.152 (Hoelzel 2004): 64 mmol/mol by hand
    assert _value(s, "1", "d0", "hba1c") == pytest.approx(0.09148 * 64 + 2.152)
    # glucose 180.16 g/mol: 180.16 mg/dL is 10 mmol/L exactly
    assert _value(s, "1", "d0", "fpg") == pytest.approx(10.0)
    # C-peptide 3020.3 g/mol: ng/mL from the unit field (code 1) to pmol/L
    assert _value(s, "1", "d0", "fcp") == pytest.approx(1.27e6 / 3020.3)
    assert _value(s, "1", "d28", "fcp") == pytest.approx(400.0)  # code 2: pmol/L as is
    assert s.measurements.height == 7  # 8 filled lab cells, one of them UNK


def test_missing_data_code_is_missing_with_a_note_never_a_number(imported):
    s = imported.study
    fpg = s.measurements.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d28"))
    assert fpg.height == 0
    notes = [f for f in imported.findings if f.value == "UNK"]
    assert len(notes) == 1 and notes[0].severity == "warning"
    assert notes[0].row == 2 and notes[0].column == "fpg"
    assert "record 1, event day_28_arm_1" in notes[0].rule


def test_codes_dag_dates_checkbox_and_template(imported):
    p = imported.study.participants.sort("participant_id")
    assert p["sex"].to_list() == ["M", "F"]
    assert p["site_id"].to_list() == ["site_a", "site_b"]
    assert p["birth_date"].to_list() == [dt.date(1968, 4, 12), dt.date(1975, 9, 30)]
    ae = imported.study.adverse_events.row(0, named=True)
    assert ae["ae_id"] == "1-AE1"
    assert ae["onset_time"] == dt.datetime(2019, 3, 18, 20, 0)
    assert ae["grade"] == 1 and ae["serious"] is False and ae["related"] == "related"
    assert imported.findings.errors == 0


def test_labelled_export_gives_the_same_study(tmp_path):
    raw = _import(write_project(tmp_path / "raw"))
    labelled = _import(write_project(tmp_path / "labelled", records="records_labels.csv"))
    for name, frame in raw.study.tables().items():
        assert getattr(labelled.study, name).equals(frame), name


def test_bad_value_is_named_by_record_event_field_and_row(tmp_path):
    files = write_project(tmp_path)
    text = files["records"].read_text().replace(",200,,,2,", ",two hundred,,,2,")
    files["records"].write_text(text)
    found = [f for f in _import(files).findings if f.severity == "error"]
    assert len(found) == 1
    f = found[0]
    assert (f.row, f.column, f.value) == (4, "fpg", "two hundred")
    assert f.file == str(files["records"])
    assert (
        f.rule == "record 2, event baseline_arm_1: value as entered is not a number (measurements)"
    )


def test_unmapped_fields_are_listed(tmp_path):
    files = write_project(tmp_path)
    mapping = files["mapping"].read_text().replace("      height_cm: height\n", "")
    files["mapping"].write_text(mapping)
    assert _import(files).unmapped == ["height"]


def test_flat_project_without_events(tmp_path):
    """A classic (not longitudinal) project: no redcap_event_name, no designations; the
    repeating AE form still gives one row per instance."""
    files = write_project(tmp_path)
    records = pl.read_csv(files["records"], infer_schema=False)
    flat = records.filter(pl.col("redcap_event_name") != "day_28_arm_1").drop("redcap_event_name")
    ae = records.filter(pl.col("redcap_repeat_instrument").is_not_null()).drop("redcap_event_name")
    pl.concat([flat, ae]).write_csv(files["records"])
    mapping = yaml.safe_load(files["mapping"].read_text())
    mapping["events"] = {}
    files["mapping"].write_text(yaml.safe_dump(mapping))
    project = read_csv_project(files["dictionary"], files["records"])
    imported = import_redcap(project, load_mapping(files["mapping"]))
    s = imported.study
    assert s.participants.height == 2 and s.adverse_events["ae_id"].to_list() == ["1-AE1"]
    assert s.measurements["visit_id"].null_count() == s.measurements.height == 5
    # without events the baseline lab values are still read, with no visit
    assert _value_without_visit(s, "1", "fpg") == pytest.approx(10.0)


def _value_without_visit(study, participant, analyte) -> float:
    m = study.measurements.filter(
        (pl.col("participant_id") == participant) & (pl.col("analyte") == analyte)
    )
    assert m.height == 1
    return m["value"][0]


def test_repeating_event_instance_is_named_in_findings(tmp_path):
    """A second day-28 lab panel as a repeating event (instance 2, no instrument)."""
    files = write_project(tmp_path)
    lines = files["records"].read_text().splitlines()
    again = lines[2].replace("day_28_arm_1,,,", "day_28_arm_1,,2,").replace(",53,", ",5e,")
    files["records"].write_text("\n".join([*lines, again]) + "\n")
    found = [f for f in _import(files).findings if f.value == "5e"]
    assert len(found) == 1 and found[0].row == 5 and found[0].column == "hba1c"
    assert found[0].rule.startswith("record 1, event day_28_arm_1 instance 2:")
