"""`celltrial validate`: exit 0 clean, 1 errors, 2 unreadable; capped output."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS

EXAMPLES = Path(__file__).parents[2] / "examples"
runner = CliRunner()
_register()


def _run(*args: str):
    return runner.invoke(app, ["validate", *args])


def test_small_study_is_clean_with_a_warning():
    result = _run(str(EXAMPLES / "small-study"))
    assert result.exit_code == DONE, result.output
    assert "0 errors, 1 warnings" in result.output


def test_broken_study_exits_with_findings():
    result = _run(str(EXAMPLES / "broken-study"))
    assert result.exit_code == FINDINGS, result.output
    assert "unknown participant" in result.output


def test_unreadable_folder_exits_2_with_one_line(tmp_path):
    result = _run(str(tmp_path / "nowhere"))
    assert result.exit_code == BAD_INPUT
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "not a folder" in result.output


def test_output_is_capped_and_json_lists_everything(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "study.yaml").write_text("study_id: many\n")
    # 120 visits of participants that do not exist: 120 reference errors
    rows = "".join(f"P{i},V1\n" for i in range(120))
    (folder / "visits.csv").write_text("participant_id,visit_id\n" + rows)
    capped = _run(str(folder), "--limit", "10")
    assert capped.exit_code == FINDINGS
    assert "... and 110 more" in capped.output
    assert "120 errors, 0 warnings" in capped.output
    lines = _run(str(folder), "--json").output.strip().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert len(parsed) == 120
    assert parsed[0]["row"] == 1 and parsed[0]["value"] == "P0"
    assert parsed[119]["file"].endswith("visits.csv")


def test_errors_come_first_then_file_and_row(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "study.yaml").write_text("study_id: mixed\n")
    # 60 glucose values of 2.0 mmol/L: inside the possible 0.5-60 but outside the plausible
    # 3-25 range (warnings); validation lists them before the participant rules, so in table
    # order the one error (height 900 cm, outside the possible 100-250) would come last
    rows = "".join(f"P1,2020-01-02 08:{i:02d},fpg,2.0,mmol/L\n" for i in range(60))
    (folder / "measurements.csv").write_text("participant_id,time,analyte,value,unit\n" + rows)
    (folder / "participants.csv").write_text(
        "participant_id,site_id,sex,enrollment_date,height_cm\nP1,S1,F,2020-01-01,900\n"
    )
    result = _run(str(folder), "--json")
    parsed = [json.loads(line) for line in result.output.strip().splitlines()]
    assert result.exit_code == FINDINGS
    assert [p["severity"] for p in parsed] == ["error"] + ["warning"] * 60
    assert (parsed[0]["column"], parsed[0]["row"]) == ("height_cm", 1)
    assert [p["row"] for p in parsed[1:]] == list(range(1, 61))
    capped = _run(str(folder), "--limit", "1").output
    assert "height" in capped and "1 errors, 60 warnings" in capped


def test_folder_named_like_a_table_file_exits_2_with_one_line(tmp_path):
    folder = tmp_path / "odd"
    (folder / "participants.csv").mkdir(parents=True)
    (folder / "study.yaml").write_text("study_id: odd\n")
    result = _run(str(folder))
    assert result.exit_code == BAD_INPUT
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "participants.csv: is a folder" in result.output
