"""The protocol CLI: show, check (lines and exit 1), screen (exit 2 on unreadable input)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from celltrial.cli import _register, app

LIAN_FILE = Path(__file__).parents[2] / "src/celltrial/protocol/protocols/lian2022.yaml"
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands() -> None:
    _register()


def test_show_both_shipped_protocols() -> None:
    lian = runner.invoke(app, ["protocol", "show", "lian2022"])
    assert lian.exit_code == 0 and "11..17" in lian.output and "inc_hba1c" in lian.output
    chin = runner.invoke(app, ["protocol", "show", "chin2025"])
    assert chin.exit_code == 0 and "hscrp > 3 mg/L at m0" in chin.output


def test_check_good_file_exits_0() -> None:
    result = runner.invoke(app, ["protocol", "check", str(LIAN_FILE)])
    assert result.exit_code == 0 and "OK" in result.output


def test_check_bad_file_lists_lines_and_exits_1(tmp_path: Path) -> None:
    text = LIAN_FILE.read_text().replace("  route: IV", "  rout: IV")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "  rout: IV" in s)
    result = runner.invoke(app, ["protocol", "check", str(bad)])
    assert result.exit_code == 1
    assert f"bad.yaml:{line}: key dosing.rout" in result.output


def test_check_missing_file_and_show_bad_name_exit_2() -> None:
    assert runner.invoke(app, ["protocol", "check", "/no/such.yaml"]).exit_code == 2
    result = runner.invoke(app, ["protocol", "show", "nosuchprotocol"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_screen_unreadable_study_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["screen", str(tmp_path / "missing"), "--protocol", "lian2022"])
    assert result.exit_code == 2 and "cannot read study" in result.output


def test_screen_a_study_folder(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.yaml").write_text("study_id: t\nprotocol: lian2022\nformat_version: 1\n")
    pl.DataFrame(
        {
            "participant_id": ["P1", "P2"],
            "site_id": ["S", "S"],
            "sex": ["M", "F"],
            "birth_date": [dt.date(1960, 1, 1), dt.date(1940, 1, 1)],  # 61 and 81 at enrolment
            "enrollment_date": [dt.date(2021, 6, 1)] * 2,
        }
    ).write_csv(folder / "participants.csv")
    result = runner.invoke(app, ["screen", str(folder), "--all"])
    assert result.exit_code == 0, result.output
    rows = [s for s in result.output.splitlines() if "inc_age" in s]
    assert "not_met" not in rows[0] and "met" in rows[0] and "not_met" in rows[1]
    as_json = runner.invoke(app, ["screen", str(folder), "--json"])
    assert as_json.output.count("\n") == 2 * 24  # 2 participants x 24 Lian criteria


def test_screen_warns_about_visit_ids_the_protocol_lacks(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.yaml").write_text("study_id: t\nprotocol: lian2022\nformat_version: 1\n")
    pl.DataFrame(
        {
            "participant_id": ["P1"],
            "site_id": ["S"],
            "sex": ["M"],
            "birth_date": [dt.date(1960, 1, 1)],
            "enrollment_date": [dt.date(2021, 6, 1)],
        }
    ).write_csv(folder / "participants.csv")
    pl.DataFrame(
        {
            "participant_id": ["P1", "P1"],
            "visit_id": ["D14", "d14"],
            "time": [dt.datetime(2021, 10, 5, 8), dt.datetime(2021, 10, 5, 8)],
            "analyte": ["fpg", "hba1c"],
            "value": [6.5, 7.5],
            "unit": ["mmol/L", "%"],
        }
    ).write_csv(folder / "measurements.csv")
    result = runner.invoke(app, ["screen", str(folder)])
    assert result.exit_code == 0, result.output
    assert "visit_id 'D14' is not a visit of protocol lian2022" in result.output
    assert "'d14'" not in result.output  # the real visit id is not flagged
