"""`celltrial simulate` end to end: writes a valid study folder; bad input exits 2."""

from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.data import read_study, validate

_register()
runner = CliRunner()


def test_simulate_writes_a_valid_study(tmp_path):
    out = tmp_path / "study"
    res = runner.invoke(
        app, ["simulate", "--preset", "lian2022", "--n", "16", "--seed", "7", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    study = read_study(out)
    assert study.participants.height == 16
    assert validate(study).errors == 0


def test_unknown_preset_exits_2(tmp_path):
    res = runner.invoke(app, ["simulate", "--preset", "nope", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "unknown preset" in res.output
    assert "Traceback" not in res.output


def test_missing_out_exits_2():
    res = runner.invoke(app, ["simulate", "--preset", "lian2022"])
    assert res.exit_code == 2
