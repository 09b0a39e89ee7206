"""`celltrial demo` end to end: both studies simulated, written, re-readable without errors,
analysed, and every report written."""

import json

from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.data import read_study, validate


def test_demo_writes_both_studies_and_reports(tmp_path):
    _register()
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    for name, n in (("lian2022", 16), ("chin2025", 218)):
        study = read_study(out / name / "study")
        assert study.participants.height == n
        assert validate(study).errors == 0
        analysis = out / name / "analysis"
        results = json.loads((analysis / "results.json").read_text())
        assert results["summaries"] and results["paired"], name
        assert (analysis / "report.html").stat().st_size > 10_000
        assert str(analysis / "report.html") in result.output.replace("\n", "")


def test_demo_into_a_file_is_bad_input(tmp_path):
    _register()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = CliRunner().invoke(app, ["demo", "--out", str(blocker)])
    assert result.exit_code == 2
    assert "cannot write to" in result.output
    assert "Traceback" not in result.output
