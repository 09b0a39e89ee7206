"""`celltrial power` and `celltrial simulate check --preset zang2022` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.cli.power import parse_sizes

_register()
runner = CliRunner()
EXAMPLES = Path(__file__).parents[2] / "examples" / "designs"


def test_power_writes_table_json_and_plot(tmp_path):
    out = tmp_path / "p"
    args = ["power", str(EXAMPLES / "zang-responder.yaml"), "--sims", "60", "--n", "40,120"]
    res = runner.invoke(app, [*args, "--out", str(out), "--seed", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "power.json").read_text())
    assert data["sizes"] == [40, 120] and data["sims"] == 60
    assert (out / "power.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the CI printed is the exact binomial interval of the simulated rejections
    lo, hi = proportion_confint(round(data["power"][1] * 60), 60, method="beta")
    assert data["power_low"][1] == pytest.approx(lo) and data["power_high"][1] == pytest.approx(hi)
    assert "zang-responder" in res.output and "type I error" in res.output


@pytest.mark.parametrize(
    "text,sizes", [("20:60:20", [20, 40, 60]), ("100,40", [40, 100]), ("30:30:5", [30])]
)
def test_size_grid_parses(text, sizes):
    assert parse_sizes(text) == sizes


@pytest.mark.parametrize("text", ["20:200", "a,b", "2,40", "60:20:20"])
def test_bad_size_grid_is_refused(text):
    with pytest.raises(ValueError, match="--n"):
        parse_sizes(text)


def test_bad_design_exits_2_naming_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (EXAMPLES / "zang-hba1c-ancova.yaml").read_text().replace("visit: w48", "visit: w52")
    bad.write_text(text)
    res = runner.invoke(app, ["power", str(bad), "--sims", "10"])
    assert res.exit_code == 2
    assert "bad.yaml" in res.output and "endpoint.visit" in res.output and "w52" in res.output
    bad.write_text(text.replace("visit: w52", "visit: w48").replace("alpha: 0.05", "alpha: 5"))
    res = runner.invoke(app, ["power", str(bad), "--sims", "10"])
    assert res.exit_code == 2 and "alpha" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["power", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2 and "cannot read" in res.output


def test_simulate_check_zang2022_shows_both_arms():
    res = runner.invoke(app, ["simulate", "check", "--preset", "zang2022", "--trials", "60"])
    assert res.exit_code == 0, res.output
    assert res.output.count("UC-MSC") >= 4 and res.output.count("placebo") >= 4
    assert "NO" not in res.output


def test_power_with_logistic_responder_design(tmp_path):
    design = EXAMPLES / "zang-responder-logistic.yaml"
    args = ["power", str(design), "--sims", "40", "--n", "120", "--out", str(tmp_path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "power.json").read_text())
    assert data["endpoint"] == "responder_logistic" and 0.0 <= data["power"][0] <= 1.0
