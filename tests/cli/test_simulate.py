"""`celltrial simulate` end to end: writes a valid study folder; bad input exits 2."""

import yaml
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.data import read_study, validate
from celltrial.protocol.loader import resolve
from celltrial.simulate.preset import load_preset

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


def test_protocol_that_admits_nobody_exits_2_with_the_shortfall(tmp_path):
    _, text = resolve("lian2022")
    proto = tmp_path / "narrow.yaml"
    proto.write_text(
        text.replace("    min: 7.0  #", "    min: 14.0  #").replace("max: 9.5", "max: 14.1")
    )
    preset = tmp_path / "p.yaml"
    data = load_preset("lian2022").model_dump()
    data["protocol"] = str(proto)
    preset.write_text(yaml.safe_dump(data))
    res = runner.invoke(app, ["simulate", "--preset", str(preset), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "16 short of 16 places" in res.output and "Traceback" not in res.output
