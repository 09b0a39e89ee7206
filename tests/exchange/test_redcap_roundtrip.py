"""REDCap out and back: a study exported (CSV files and project XML) and imported with the
mapping the export wrote is the same study, table by table and cell by cell."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.cli.exits import BAD_INPUT, DONE
from celltrial.data import read_study, write_study
from celltrial.data.redcap import import_redcap, load_mapping, read_csv_project
from celltrial.data.redcap.export import export_redcap, write_export
from celltrial.data.redcap.odm import read_project_xml
from celltrial.data.redcap.odm_export import project_xml
from celltrial.data.schema import TABLES
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials

EXAMPLES = Path(__file__).parents[2] / "examples"
runner = CliRunner()
_register()


def assert_same_study(a, b) -> None:
    assert a.meta == b.meta
    for name, frame in a.tables().items():
        key = list(TABLES[name].key)
        other = getattr(b, name)
        assert other.columns == list(TABLES[name].polars_schema), name
        left = frame.select(other.columns).sort(key, nulls_last=True)
        right = other.sort(key, nulls_last=True)
        assert left.schema == right.schema, name
        assert left.height == right.height, name
        for column in left.columns:  # cell by cell, so a failure names the column
            assert left[column].equals(right[column]), (name, column)


def _round_trip(study, folder: Path, via_xml: bool):
    folder.mkdir()
    export = export_redcap(study)
    write_export(export, folder)
    if via_xml:
        xml = folder / "project.xml"
        xml.write_text(project_xml(export, study.meta.study_id, study.meta.title))
        project = read_project_xml(xml)
    else:
        project = read_csv_project(
            folder / "data_dictionary.csv",
            folder / "records.csv",
            folder / "instrument_designation.csv",
        )
    return import_redcap(project, load_mapping(folder / "mapping.yaml"))


@pytest.fixture(scope="module")
def lian_study(tmp_path_factory):
    """A simulated Lian 2022 study as a user has it: written and read back."""
    folder = tmp_path_factory.mktemp("lian") / "study"
    preset = load_preset("lian2022")
    write_study(build_study(simulate_trials(preset, 1, 16, 7), 0, 7), folder)
    return read_study(folder)


@pytest.mark.parametrize("via_xml", [False, True], ids=["csv", "xml"])
def test_small_study_round_trip(tmp_path, via_xml):
    study = read_study(EXAMPLES / "small-study")
    imported = _round_trip(study, tmp_path / "redcap", via_xml)
    assert imported.findings.errors == 0
    assert imported.unmapped == []
    assert_same_study(study, imported.study)


@pytest.mark.parametrize("via_xml", [False, True], ids=["csv", "xml"])
def test_simulated_lian_round_trip(tmp_path, lian_study, via_xml):
    assert lian_study.lots.height and lian_study.adverse_events.height
    imported = _round_trip(lian_study, tmp_path / "redcap", via_xml)
    assert_same_study(lian_study, imported.study)


def test_export_layout_is_what_redcap_expects(tmp_path):
    export = export_redcap(read_study(EXAMPLES / "small-study"))
    d = export.dictionary
    assert d["Variable / Field Name"][0] == "record_id"  # REDCap: the first field is the id
    assert d["Variable / Field Name"].is_unique().all()
    assert set(export.designations["form"]) == set(TABLES)
    # every record row's repeating instrument is designated in its event
    pairs = export.records.select("redcap_event_name", "redcap_repeat_instrument").drop_nulls()
    designated = export.designations.select(
        pl.col("unique_event_name").alias("redcap_event_name"),
        pl.col("form").alias("redcap_repeat_instrument"),
    )
    assert pairs.join(designated, on=pairs.columns, how="anti").height == 0
    # lots are records of arm 2
    lots = export.records.filter(pl.col("redcap_event_name") == "lot_release_arm_2")
    assert sorted(lots["record_id"]) == ["L1901", "L1902", "L1903"]


def test_cli_export_then_import_gives_the_study_back(tmp_path):
    out = tmp_path / "redcap"
    result = runner.invoke(
        app, ["export", "redcap", str(EXAMPLES / "small-study"), "--out", str(out)]
    )
    assert result.exit_code == DONE, result.output
    args = [
        "import",
        "redcap",
        "--dictionary",
        str(out / "data_dictionary.csv"),
        "--records",
        str(out / "records.csv"),
        "--events",
        str(out / "instrument_designation.csv"),
        "--mapping",
        str(out / "mapping.yaml"),
        "--out",
        str(tmp_path / "back"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == DONE, result.output
    assert "wrote" in result.output
    assert_same_study(read_study(EXAMPLES / "small-study"), read_study(tmp_path / "back"))


def test_cli_export_refuses_a_folder_with_files(tmp_path):
    out = tmp_path / "redcap"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(
        app, ["export", "redcap", str(EXAMPLES / "small-study"), "--out", str(out)]
    )
    assert result.exit_code == BAD_INPUT
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_cli_export_of_a_broken_study_writes_nothing(tmp_path):
    out = tmp_path / "redcap"
    result = runner.invoke(
        app, ["export", "redcap", str(EXAMPLES / "broken-study"), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert not out.exists()
