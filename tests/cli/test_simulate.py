"""`celltrial simulate` end to end: writes a valid study folder; bad input exits 2."""

import polars as pl
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


def test_check_report_shows_the_accepted_range_and_why_ok_is_blank(capsys):
    from scipy.stats import binomtest

    from celltrial.cli.simulate import _print_report
    from celltrial.simulate.calibrate import REPORT_SCHEMA

    # lian2022: 1 of 16 discontinued; a simulated 0.279 lies inside the exact 95 % interval
    ci = binomtest(1, 16).proportion_ci(confidence_level=0.95, method="exact")
    rows = [
        ("proportion", "discontinued", "d84", 1 / 16, ci.low, ci.high, 0.279, True, 0.1, "L199"),
        ("count per trial", "fever_events", "", 5.0, None, None, 4.82, None, 2.0, "L202"),
    ]
    _print_report(pl.DataFrame(rows, schema=REPORT_SCHEMA, orient="row"))
    out = capsys.readouterr().out
    assert f"{ci.low:.3g} to {ci.high:.3g}" in out  # 0.00158 to 0.302
    assert "accepted range" in out and "discontinued" in out and "\u2026" not in out
    fever = next(line for line in out.splitlines() if "fever_events" in line)
    assert fever.split("│")[7].strip() == "-"  # the ok cell of a count: not checked
    assert "'-' = not checked" in out


def test_check_help_says_what_ok_means():
    res = runner.invoke(app, ["simulate", "check", "--help"])
    assert "accepted range" in res.output and "Clopper-Pearson" in res.output
