"""`celltrial validate`: exit 0 clean, 1 errors, 2 unreadable; capped output."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.cli.study_protocol import protocol_spec
from celltrial.protocol import load_protocol

EXAMPLES = Path(__file__).parents[2] / "examples"
runner = CliRunner()
_register()


def _run(*args: str):
    return runner.invoke(app, ["validate", *args])


def test_small_study_is_clean_with_a_warning():
    result = _run(str(EXAMPLES / "small-study"))
    assert result.exit_code == DONE, result.output
    assert "0 errors, 1 warning: valid" in result.output


def test_broken_study_exits_with_findings():
    result = _run(str(EXAMPLES / "broken-study"))
    assert result.exit_code == FINDINGS, result.output
    assert "unknown participant" in result.output


def test_unreadable_folder_exits_2_with_one_line(tmp_path):
    result = _run(str(tmp_path / "nowhere"))
    assert result.exit_code == BAD_INPUT
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "no such folder" in result.output


def test_a_file_is_not_a_folder(tmp_path):
    file = tmp_path / "study.csv"
    file.write_text("a,b\n")
    result = _run(str(file))
    assert result.exit_code == BAD_INPUT
    assert "not a folder" in result.output and "no such folder" not in result.output


def test_output_is_capped_and_json_lists_everything(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "study.yaml").write_text("study_id: many\n")
    # 120 visits of participants that do not exist: 120 reference errors
    (folder / "participants.csv").write_text(
        "participant_id,site_id,sex,enrollment_date\nP-1,S1,F,2020-01-01\n"
    )
    rows = "".join(f"P{i},V1\n" for i in range(120))
    (folder / "visits.csv").write_text("participant_id,visit_id\n" + rows)
    capped = _run(str(folder), "--limit", "10")
    assert capped.exit_code == FINDINGS
    assert "... and 110 more findings" in capped.output
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
    assert "height" in capped and "1 error, 60 warnings" in capped


def test_folder_named_like_a_table_file_exits_2_with_one_line(tmp_path):
    folder = tmp_path / "odd"
    (folder / "participants.csv").mkdir(parents=True)
    (folder / "study.yaml").write_text("study_id: odd\n")
    result = _run(str(folder))
    assert result.exit_code == BAD_INPUT
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "participants.csv: is a folder" in result.output


def _json(result) -> list[dict]:
    return [json.loads(line) for line in result.output.strip().splitlines()]


def _study(tmp_path, yaml_text: str, files: dict[str, str] | None = None):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.yaml").write_text(yaml_text)
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    return folder


def test_unknown_protocol_is_an_error_finding(tmp_path):
    # `analyze` refuses this study (exit 2); `validate` used to pass it
    folder = _study(tmp_path, "study_id: s\nprotocol: lian2023\n")
    result = _run(str(folder), "--json")
    assert result.exit_code == FINDINGS, result.output
    (finding,) = _json(result)
    assert (finding["table"], finding["column"], finding["value"]) == (
        "study",
        "protocol",
        "lian2023",
    )
    assert finding["rule"].startswith("no shipped protocol or file of this name")
    assert finding["file"].endswith("study.yaml")


def test_protocol_file_beside_the_study_is_found_from_any_folder(tmp_path, monkeypatch):
    shipped = resources.files("celltrial.protocol") / "protocols" / "lian2022.yaml"
    folder = _study(tmp_path, "study_id: s\nprotocol: my-protocol.yaml\n")
    (folder / "my-protocol.yaml").write_text(shipped.read_text(encoding="utf-8"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert protocol_spec("my-protocol.yaml", folder) == str(folder / "my-protocol.yaml")
    assert protocol_spec("lian2022", folder) == "lian2022"
    result = _run(str(folder), "--json")
    assert result.exit_code == DONE, result.output
    assert result.output.strip() == ""


def test_protocol_file_that_is_not_a_protocol_is_an_error(tmp_path):
    folder = _study(tmp_path, "study_id: s\nprotocol: p.yaml\n", {"p.yaml": "id: x\n"})
    (finding,) = _json(_run(str(folder), "--json"))
    assert (finding["severity"], finding["column"]) == ("error", "protocol")
    assert finding["rule"].startswith("protocol cannot be loaded: ")


def test_screening_criteria_the_protocol_does_not_define_are_warnings(tmp_path):
    screening = (
        "participant_id,criterion_id,met\n"
        "P1,inc_t2dm,true\n"  # a lian2022 checklist criterion
        ",,\n"  # an empty row saved by Excel: skipped, later rows keep their numbers
        "P1,age_18_70,true\n"  # row 3: an id of no lian2022 criterion
    )
    participants = "participant_id,site_id,sex,enrollment_date\nP1,S1,F,2020-01-01\n"
    folder = _study(
        tmp_path,
        "study_id: s\nprotocol: lian2022\n",
        {"screening.csv": screening, "participants.csv": participants},
    )
    result = _run(str(folder), "--json")
    assert result.exit_code == DONE
    found = [(f["row"], f["column"], f["value"]) for f in _json(result)]
    assert found == [(2, None, None), (3, "criterion_id", "age_18_70")]


def test_example_screening_uses_the_protocol_criteria():
    # every screening row of both examples names a criterion of lian2022, except the one
    # deliberate stale id of broken-study documented in examples/README.md
    ids = {c.id for c in load_protocol("lian2022").eligibility}
    for name in ("small-study", "broken-study"):
        rows = (EXAMPLES / name / "screening.csv").read_text().splitlines()[1:]
        unknown = [(i, r) for i, r in enumerate(rows, 1) if r.split(",")[1] not in ids]
        assert unknown == ([] if name == "small-study" else [(103, "P01,age_18_70,true,50,")])


def test_broken_study_lists_every_documented_mistake():
    documented = []
    for line in (EXAMPLES / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0].endswith(".csv"):
            documented.append((cells[0], int(cells[1]), cells[3].split(":")[0]))
    found = {
        (Path(f["file"]).name, f["row"], f["severity"])
        for f in _json(_run(str(EXAMPLES / "broken-study"), "--json"))
    }
    assert len(documented) == 16
    assert set(documented) <= found


@pytest.mark.parametrize(
    "options", [["--limit", "2", "--all"], ["--json", "--all"], ["--json", "--limit", "3"]]
)
def test_printing_options_are_mutually_exclusive(options):
    result = _run(str(EXAMPLES / "small-study"), *options)
    assert result.exit_code == BAD_INPUT
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "cannot be used together" in result.output


def _broken_on_terminal(monkeypatch, columns: int):
    # a terminal of `columns` columns: Rich reads COLUMNS when the console width is not given
    monkeypatch.setattr("celltrial.cli.consoles.on_terminal", lambda: True)
    return runner.invoke(
        app, ["validate", str(EXAMPLES / "broken-study")], env={"COLUMNS": str(columns)}
    )


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_narrow_terminal_names_every_file_whole_on_one_line(monkeypatch, columns):
    result = _broken_on_terminal(monkeypatch, columns)
    assert result.exit_code == FINDINGS, result.output
    assert "\u2026" not in result.output  # Rich's ellipsis: nothing elided
    # examples/broken-study/measurements.csv line 34 is data row 33 (header on line 1): mg
    assert "measurements.csv row 33, unit = mg: unit as entered is not accepted" in result.output
    assert "broken-study/measurements.csv" not in result.output  # named relative to the folder
    assert "findings in " + str(EXAMPLES / "broken-study") in result.output


def test_piped_output_keeps_whole_rows_and_json_full_paths():
    result = _run(str(EXAMPLES / "broken-study"))
    assert "\u2026" not in result.output
    # the longest rule fits on its row: no wrapping into a second line
    assert (
        "criterion not defined by protocol lian2022 (see `celltrial protocol show lian2022`)"
        in (result.output)
    )
    parsed = [
        json.loads(x)
        for x in _run(str(EXAMPLES / "broken-study"), "--json").output.split("\n")
        if x
    ]
    assert all(p["file"].startswith(str(EXAMPLES / "broken-study") + "/") for p in parsed)


def test_duplicate_key_names_the_earlier_row_and_the_key(tmp_path):
    folder = tmp_path / "dup"
    folder.mkdir()
    (folder / "study.yaml").write_text("study_id: dup\n")
    (folder / "participants.csv").write_text(
        "participant_id,site_id,sex,enrollment_date\nP1,S1,F,2020-01-01\n"
    )
    # data rows 1, 2, 3: rows 1 and 3 share (P1, fpg, 2020-01-02 08:00); row 2 differs
    (folder / "measurements.csv").write_text(
        "participant_id,time,analyte,value,unit\n"
        "P1,2020-01-02 08:00,fpg,7.0,mmol/L\n"
        "P1,2020-01-02 08:00,hba1c,7.0,%\n"
        "P1,2020-01-02 08:00,fpg,7.1,mmol/L\n"
    )
    parsed = [json.loads(x) for x in _run(str(folder), "--json").output.split("\n") if x]
    dup = [p for p in parsed if p["rule"].startswith("duplicate key")]
    assert [p["row"] for p in dup] == [3]
    assert dup[0]["rule"] == (
        "duplicate key: row 1 has the same participant_id, analyte, time "
        "(P1 / fpg / 2020-01-02 08:00:00)"
    )


# ---------------------------------------------------------------- issue 10: the protocol


def _json_of(folder: Path) -> list[dict]:
    result = _run(str(folder), "--json")
    return [json.loads(line) for line in result.output.strip().splitlines()]


def _where(found: list[dict]) -> set[tuple]:
    return {(Path(f["file"]).name, f["row"], f["column"], f["severity"]) for f in found}


def test_broken_study_lists_each_deliberate_protocol_mistake():
    found = _json_of(EXAMPLES / "broken-study")
    assert {
        ("lots.csv", 3, "release_status", "error"),  # released with pending tests
        ("infusions.csv", 18, "lot_id", "error"),  # given from that lot
        ("infusions.csv", 8, "dose_cells", "warning"),  # 802 million for 80.2 kg
        ("visits.csv", 7, "actual_date", "warning"),  # d14 on day 19
        ("medications.csv", 11, "end_date", "warning"),  # ends on the d28 visit
        ("adverse_events.xlsx", None, None, "warning"),  # a spreadsheet beside the CSV
    } <= _where(found)


def test_a_misnamed_table_fails_validation_first(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(EXAMPLES / "small-study", folder)
    (folder / "adverse_events.csv").rename(folder / "Adverse_Events.csv")
    result = _run(str(folder))
    assert result.exit_code == FINDINGS
    found = _json_of(folder)
    assert found[0]["value"] == "Adverse_Events.csv" and found[0]["severity"] == "error"
    assert "must be named adverse_events.csv (lower case)" in found[0]["rule"]


def test_a_missing_key_column_is_listed_first(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(EXAMPLES / "broken-study", folder)
    (folder / "adverse_events.xlsx").unlink()
    file = folder / "visits.csv"
    lines = file.read_text().splitlines()
    # visit_id dropped from every line of visits.csv (the 2nd column)
    cut = [",".join(c for i, c in enumerate(line.split(",")) if i != 1) for line in lines]
    file.write_text("\n".join(cut) + "\n")
    found = _json_of(folder)
    assert (found[0]["file"].endswith("visits.csv"), found[0]["column"]) == (True, "visit_id")
    assert found[0]["rule"] == "required column missing"
    # no knock-on: no measurement is reported for a visit that cannot be looked up
    assert not [f for f in found if f["rule"].startswith("unknown visit")]


def test_analyze_refuses_a_study_with_protocol_errors(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(EXAMPLES / "small-study", folder)
    lots = folder / "lots.csv"
    lots.write_text(lots.read_text().replace(",98.6,", ",90.0,"))  # L1902 CD73 below 95 %
    assert _run(str(folder)).exit_code == FINDINGS
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == FINDINGS
    assert "CD73 90.0 % fails ISCT" in result.output
    assert not (tmp_path / "out").exists()


def _example_with(tmp_path, table: str, row: int, old: str, new: str):
    study = tmp_path / "study"
    shutil.copytree(Path(__file__).parents[2] / "examples" / "small-study", study)
    lines = (study / f"{table}.csv").read_text().splitlines()
    assert old in lines[row]  # row: file line, the header is line 0
    lines[row] = lines[row].replace(old, new)
    (study / f"{table}.csv").write_text("\n".join(lines) + "\n")
    return study


def test_day_month_year_visit_date_is_one_error_and_no_traceback(tmp_path) -> None:
    # found by a new user: the unreadable date also made a window warning with no rule text
    study = _example_with(tmp_path, "visits", 2, "2019-03-19", "19/03/2019")
    result = runner.invoke(app, ["validate", str(study), "--json"])
    assert result.exit_code == 1
    findings = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    visits = [f for f in findings if f["table"] == "visits"]
    assert [(f["severity"], f["row"], f["column"]) for f in visits] == [("error", 2, "actual_date")]
    assert all(f["rule"] for f in findings)
    table = runner.invoke(app, ["validate", str(study)])
    assert table.exit_code == 1 and "Traceback" not in table.output


def test_unreadable_first_infusion_makes_no_window_warnings(tmp_path) -> None:
    # day 0 of lian2022 is the first infusion: unknown, so P01's visits are not judged
    study = _example_with(tmp_path, "infusions", 1, "2019-03-04T09:30:00", "04/03/2019 09:30")
    result = runner.invoke(app, ["validate", str(study), "--json"])
    findings = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [f["column"] for f in findings if f["table"] == "infusions"] == ["start_time"]
    assert not [f for f in findings if f["table"] == "visits"]
