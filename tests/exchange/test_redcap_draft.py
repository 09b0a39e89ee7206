"""--draft-mapping: a first mapping guessed from the dictionary, which loads, fits the project
and imports the centre's values as the hand-written mapping does."""

from __future__ import annotations

from redcap_centre import write_project
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.cli.exits import BAD_INPUT, DONE
from celltrial.data.redcap import import_redcap, load_mapping, read_csv_project
from celltrial.data.redcap.draft import guess_visit

runner = CliRunner()
_register()


def _draft(files, target):
    args = ["import", "redcap", "--dictionary", str(files["dictionary"])]
    args += ["--records", str(files["records"]), "--events", str(files["events"])]
    return runner.invoke(app, [*args, "--draft-mapping", str(target)])


def test_draft_finds_analytes_units_and_participant_fields(tmp_path):
    files = write_project(tmp_path / "in")
    target = tmp_path / "draft.yaml"
    result = _draft(files, target)
    assert result.exit_code == DONE, result.output
    located = load_mapping(target)
    m = located.mapping
    units = {a.analyte: (a.field, a.unit, a.unit_field, a.time_field) for a in m.analytes}
    assert units == {
        "hba1c": ("hba1c", "mmol/mol", None, "lab_date"),  # from the label "(mmol/mol)"
        "fpg": ("fpg", "mg/dL", None, "lab_date"),
        "fcp": ("fcp", None, "fcp_unit", "lab_date"),  # the unit field beside it
    }
    columns = m.tables["participants"].columns
    assert columns["sex"].codes == {"1": "M", "2": "F"}
    assert (columns["birth_date"].field, columns["height_cm"].field) == ("dob", "height")
    assert columns["site_id"].source == "@dag"
    assert m.events == {"baseline_arm_1": "d0", "day_28_arm_1": "d28"}
    assert "# check" in target.read_text()
    # the draft imports the same lab values as the hand-written mapping
    project = read_csv_project(files["dictionary"], files["records"], files["events"])
    drafted = import_redcap(project, located).study.measurements
    written = import_redcap(project, load_mapping(files["mapping"])).study.measurements
    cols = ["participant_id", "visit_id", "analyte", "value"]
    assert drafted.select(cols).sort(cols).equals(written.select(cols).sort(cols))


def test_draft_is_never_written_over_a_file(tmp_path):
    files = write_project(tmp_path / "in")
    result = _draft(files, files["mapping"])
    assert result.exit_code == BAD_INPUT
    assert files["mapping"].read_text().startswith("celltrial_mapping: 1")


def test_visit_guesses():
    guesses = {e: guess_visit(e) for e in ("baseline_arm_1", "day_84_arm_1", "week_12_arm_1")}
    assert guesses == {"baseline_arm_1": "d0", "day_84_arm_1": "d84", "week_12_arm_1": "d84"}
    assert guess_visit("month_6_arm_2") == "m6" and guess_visit("screening_arm_1") == "screening"


def test_cli_needs_one_source(tmp_path):
    files = write_project(tmp_path / "in")
    args = ["import", "redcap", "--dictionary", str(files["dictionary"])]
    result = runner.invoke(app, [*args, "--project-xml", "x.xml", "--mapping", "m", "--out", "o"])
    assert result.exit_code == BAD_INPUT and "one of the two" in result.output
    result = runner.invoke(app, [*args, "--mapping", str(files["mapping"]), "--out", "o"])
    assert result.exit_code == BAD_INPUT and "go together" in result.output
