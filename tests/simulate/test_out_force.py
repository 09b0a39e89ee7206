"""`celltrial simulate --out DIR` never replaces a study already in DIR without --force."""

from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.data import read_study

_register()
runner = CliRunner()


def _simulate(out, *extra):
    args = ["simulate", "--preset", "lian2022", "--n", "4", "--out", str(out), *extra]
    return runner.invoke(app, args)


def test_existing_study_is_refused_and_left_unchanged(tmp_path):
    out = tmp_path / "study"
    assert _simulate(out, "--seed", "1").exit_code == 0
    before = read_study(out).measurements
    res = _simulate(out, "--seed", "2")
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "already holds a study" in lines[0] and "--force" in lines[0]
    assert "study.yaml" in lines[0]
    assert read_study(out).measurements.equals(before)


def test_a_lone_table_file_counts_as_a_study(tmp_path):
    out = tmp_path / "entered"
    out.mkdir()
    (out / "measurements.csv").write_text("participant_id\nP01\n")
    res = _simulate(out)
    assert res.exit_code == 2 and "measurements.csv" in res.output
    assert (out / "measurements.csv").read_text() == "participant_id\nP01\n"


def test_force_replaces_the_study(tmp_path):
    out = tmp_path / "study"
    assert _simulate(out, "--seed", "1").exit_code == 0
    before = read_study(out).measurements
    res = _simulate(out, "--seed", "2", "--force")
    assert res.exit_code == 0, res.output
    assert not read_study(out).measurements.equals(before)


def test_an_empty_folder_is_written(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert _simulate(out).exit_code == 0
    assert read_study(out).participants.height == 4
