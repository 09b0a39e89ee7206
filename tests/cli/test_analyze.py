import json

from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.data import write_study
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials

_register()
runner = CliRunner()


def test_analyze_writes_every_output(tmp_path) -> None:
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 8, seed=5))
    folder = write_study(study, tmp_path / "study")
    out = tmp_path / "out"
    res = runner.invoke(app, ["analyze", str(folder), "--protocol", "lian2022", "--out", str(out)])
    assert res.exit_code == DONE, res.output
    for name in ["results.json", "tables.xlsx", "tables.docx", "report.html"]:
        assert (out / name).stat().st_size > 0
    data = json.loads((out / "results.json").read_text())
    fpg = [r for r in data["summaries"] if r["analyte"] == "fpg" and r["visit_id"] == "d0"]
    assert fpg[0]["n"] == 8
    assert data["meta"]["rank_tests"] == "spss"  # the stated default
    assert not list(out.rglob("*.tmp"))


def test_rank_tests_exact_is_used_and_stated(tmp_path) -> None:
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 8, seed=5))
    folder = write_study(study, tmp_path / "study")
    out = tmp_path / "out"
    args = ["analyze", str(folder), "--protocol", "lian2022", "--rank-tests", "exact"]
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == DONE, res.output
    assert "rank tests: exact" in res.output
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["rank_tests"] == "exact"
    assert "exact null distribution" in data["meta"]["methods"]["wilcoxon"]
    methods = {r["method"] for r in data["paired"] if r["method"].startswith("wilcoxon")}
    assert "wilcoxon signed-rank (exact)" in methods  # 8 participants: untied groups exist
    assert "exact null distribution" in (out / "report.html").read_text()


def test_unknown_rank_tests_exits_2(tmp_path) -> None:
    res = runner.invoke(
        app, ["analyze", str(tmp_path), "--rank-tests", "spss25", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == BAD_INPUT
    assert "'spss25' is not one of 'spss', 'exact'" in res.output
    assert not (tmp_path / "o").exists()


def test_missing_folder_exits_2_with_one_line(tmp_path) -> None:
    res = runner.invoke(app, ["analyze", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert res.exit_code == BAD_INPUT
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_unknown_protocol_exits_2(tmp_path) -> None:
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 4, seed=5))
    folder = write_study(study, tmp_path / "study")
    res = runner.invoke(
        app,
        ["analyze", str(folder), "--protocol", "no-such-protocol", "--out", str(tmp_path / "o")],
    )
    assert res.exit_code == BAD_INPUT
    assert len(res.output.strip().splitlines()) == 1
    # no line number or key to give: none shown (not "no-such-protocol:0::")
    assert "no-such-protocol: no such file or shipped protocol" in res.output


def test_invalid_study_exits_1_and_writes_nothing(tmp_path) -> None:
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 4, seed=5))
    bad = study.infusions.with_columns(
        lot_id=study.infusions["lot_id"].str.replace(r"^.*$", "NOPE")
    )
    folder = write_study(study.with_table("infusions", bad), tmp_path / "study")
    res = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "o")])
    assert res.exit_code == FINDINGS
    assert not (tmp_path / "o").exists()
    # errors as validate prints them: file, row, column = value: rule (no "column None")
    first = res.output.splitlines()[0]
    assert first.startswith("error") and "infusions.csv row 1, lot_id = NOPE: unknown lot" in first
    assert "None" not in res.output


def _small_study(tmp_path):
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 4, seed=5))
    return write_study(study, tmp_path / "study")


def test_out_under_proc_exits_2_with_one_line(tmp_path) -> None:
    # /proc refuses new folders (FileNotFoundError from mkdir): issue 6, item 1
    res = runner.invoke(app, ["analyze", str(_small_study(tmp_path)), "--out", "/proc/nope"])
    assert res.exit_code == BAD_INPUT, res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert "cannot write to /proc/nope" in res.output


def test_out_an_existing_file_exits_2_and_keeps_it(tmp_path) -> None:
    blocker = tmp_path / "results.txt"
    blocker.write_text("keep me")
    res = runner.invoke(app, ["analyze", str(_small_study(tmp_path)), "--out", str(blocker)])
    assert res.exit_code == BAD_INPUT, res.output
    assert len(res.output.strip().splitlines()) == 1 and "is a file" in res.output
    assert blocker.read_text() == "keep me"


def test_out_below_a_file_exits_2(tmp_path) -> None:
    (tmp_path / "f").write_text("x")
    res = runner.invoke(
        app, ["analyze", str(_small_study(tmp_path)), "--out", str(tmp_path / "f/o")]
    )
    assert res.exit_code == BAD_INPUT, res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output


def test_one_validation_error_is_named_in_the_singular(tmp_path) -> None:
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 4, seed=5))
    # one infusion's lot made unknown: exactly one reference error
    lots = study.infusions["lot_id"].to_list()
    bad = study.infusions.with_columns(lot_id=study.infusions["lot_id"].scatter(0, "NOPE"))
    assert lots[1:] == bad["lot_id"].to_list()[1:]
    folder = write_study(study.with_table("infusions", bad), tmp_path / "study")
    res = runner.invoke(app, ["analyze", str(folder), "--out", str(tmp_path / "o")])
    assert res.exit_code == FINDINGS
    assert "1 validation error: run `celltrial validate` and fix it first" in res.output
