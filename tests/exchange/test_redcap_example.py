"""examples/redcap-project: the centre-like project imports from its CSV files and from its
project XML into the same valid study, with the hand edits read as the mapping says."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from celltrial.data import validate
from celltrial.data.redcap import import_redcap, load_mapping, read_csv_project
from celltrial.data.redcap.odm import read_project_xml

PROJECT = Path(__file__).parents[2] / "examples" / "redcap-project"


@pytest.fixture(scope="module")
def from_csv():
    project = read_csv_project(
        PROJECT / "data_dictionary.csv",
        PROJECT / "records.csv",
        PROJECT / "instrument_designation.csv",
    )
    return import_redcap(project, load_mapping(PROJECT / "mapping.yaml"))


def test_csv_and_xml_give_the_same_study(from_csv):
    xml = import_redcap(
        read_project_xml(PROJECT / "project.xml"), load_mapping(PROJECT / "mapping.yaml")
    )
    for name, frame in from_csv.study.tables().items():
        assert getattr(xml.study, name).equals(frame), name
    assert xml.unmapped == from_csv.unmapped == ["ae_action"]


def test_hand_edits_are_read_as_the_mapping_says(from_csv):
    s = from_csv.study
    sites = dict(s.participants.select("participant_id", "site_id").iter_rows())
    assert sites == {
        "P01": "S01",
        "P02": "S01",
        "P03": "S01",
        "P04": "S02",
        "P05": "S02",
        "P06": "S02",
    }
    assert s.participants.filter(pl.col("participant_id") == "P04")[
        "diabetes_duration_years"
    ].to_list() == [None]  # NASK: not asked
    ae = s.adverse_events.sort("ae_id")
    assert ae["ae_id"].to_list() == ["AE001", "AE002", "AE003", "AE004"]
    assert ae["related"].to_list() == ["related", "related", "possibly", "possibly"]
    assert ae["serious"].to_list() == [False] * 4
    codes = sorted(f.value for f in from_csv.findings if "missing-data code" in f.rule)
    assert codes == ["NA", "NASK", "UNK"]
    assert from_csv.findings.errors == 0 and validate(s).errors == 0


def test_the_shipped_bad_mapping_is_refused_at_its_line() -> None:
    # the README's example: mapping.yaml with pt_birth_date mistyped on line 29
    from celltrial.data.redcap.mapping import MappingError

    project = read_csv_project(
        PROJECT / "data_dictionary.csv",
        PROJECT / "records.csv",
        PROJECT / "instrument_designation.csv",
    )
    with pytest.raises(MappingError) as refused:
        import_redcap(project, load_mapping(PROJECT / "bad-mapping.yaml"))
    [issue] = refused.value.issues
    assert issue.line == 29 and "pt_birthdate" in str(issue) and "pt_birth_date" in str(issue)
