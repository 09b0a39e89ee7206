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
        text.replace("    min: 7.0  #", "    min: 30.0  #").replace("max: 9.5", "max: 30.1")
    )
    preset = tmp_path / "p.yaml"
    data = load_preset("lian2022").model_dump()
    data["protocol"] = str(proto)
    preset.write_text(yaml.safe_dump(data))
    res = runner.invoke(app, ["simulate", "--preset", str(preset), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "16 short of 16 places" in res.output and "Traceback" not in res.output


def test_check_prints_the_simulated_range_and_the_share_of_a_test_outcome(capsys):
    from celltrial.cli.simulate import _print_check
    from celltrial.simulate.predictive import CHECK_SCHEMA

    rows = [
        ("SD", "fpg", "d0", 2.65, 1.2, 1.6, 2.1, None, False, "L227"),
        ("no significant change", "alt", "d28", 0.0, None, None, None, 0.004, False, "L209"),
        ("count per trial", "male", "", 12.0, 8.0, 12.0, 15.0, None, True, "L217"),
    ]
    _print_check(pl.DataFrame(rows, schema=CHECK_SCHEMA, orient="row"), 500)
    out = capsys.readouterr().out
    sd = next(line for line in out.splitlines() if "fpg" in line)
    assert "1.2 to 2.1" in sd and sd.split("│")[7].strip() == "NO"
    alt = next(line for line in out.splitlines() if "alt" in line)
    assert "p >= 0.05" in alt and "0.4% of trials" in alt
    male = next(line for line in out.splitlines() if "male" in line)
    assert "8 to 15" in male and male.split("│")[7].strip() == "yes"
    assert "500 simulated trials; 1 of 3 ok" in " ".join(out.split())


def test_check_help_says_what_ok_means():
    res = runner.invoke(app, ["simulate", "check", "--help"])
    text = " ".join(res.output.replace("│", " ").split())
    assert "central 95% of the simulated trials" in text and "at least 2.5%" in text


def test_check_exit_status_follows_the_rows(tmp_path):
    ok = runner.invoke(app, ["simulate", "check", "--preset", "chin2025", "--trials", "5"])
    assert ok.exit_code == 0, ok.output
    assert "11 of 11 ok" in " ".join(ok.output.split())
    # lian2022 with half the baseline FPG spread: the Table 1 FPG SD (L227) is out of range
    data = load_preset("lian2022").model_dump()
    for k in ("lb_sd", "ls_sd", "ppg_log_sd"):
        data["latent"][k] /= 2
    narrow = tmp_path / "lian2022.yaml"
    narrow.write_text(yaml.safe_dump(data))
    bad = runner.invoke(app, ["simulate", "check", "--preset", str(narrow), "--trials", "300"])
    assert bad.exit_code == 1
    sd = next(line for line in bad.output.splitlines() if "│ SD" in line and "fpg" in line)
    assert sd.split("│")[7].strip() == "NO"
