"""SPSS and Stata files: read back with pyreadstat, values checked against the example
study's CSV converted by hand, labels and measurement levels as written."""

from __future__ import annotations

from pathlib import Path

import pyreadstat
import pytest
from typer.testing import CliRunner

from celltrial.cli import _register, app

EXAMPLE = Path(__file__).parents[2] / "examples" / "small-study"
runner = CliRunner()
_register()

# examples/small-study/measurements.csv, P01 at day 28: FPG 7.1 mmol/L, FCP 1.81 ng/mL.
# C-peptide M = 3020.3 g/mol: 1.81 ng/mL = 1.81e-9 g/mL / 3020.3 g/mol = 599.28 pmol/L
FCP_P01_D28 = 1.81e6 / 3020.3
# Lian 2022 (L117-118): HOMA-IR(CP) = 1.5 + FCP (pmol/L) x FPG (mmol/L) / 2800
HOMA_CP_IR_P01_D28 = 1.5 + FCP_P01_D28 * 7.1 / 2800


def _export(fmt: str, out: Path) -> dict[str, tuple]:
    result = runner.invoke(app, ["export", fmt, str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    read = pyreadstat.read_sav if fmt == "spss" else pyreadstat.read_dta
    suffix = "sav" if fmt == "spss" else "dta"
    return {s: read(str(out / f"small-study_{s}.{suffix}")) for s in ("wide", "long")}


@pytest.mark.parametrize("fmt", ["spss", "stata"])
def test_wide_values_and_labels(tmp_path: Path, fmt: str) -> None:
    frame, meta = _export(fmt, tmp_path / "out")["wide"]
    p01 = frame[frame["participant_id"] == "P01"].iloc[0]
    assert p01["fcp_d28"] == pytest.approx(FCP_P01_D28, rel=1e-9)
    assert p01["homa_cp_ir_d28"] == pytest.approx(HOMA_CP_IR_P01_D28, rel=1e-9)
    assert p01["fpg_d0"] == pytest.approx(9.3)
    assert len(frame) == 6  # six participants in participants.csv
    assert meta.column_names_to_labels["hba1c_d84"] == "Haemoglobin A1c (NGSP) (%), visit d84"
    assert meta.variable_value_labels["sex"] == {1: "male", 2: "female"}
    assert p01["sex"] == 1  # P01 is M in participants.csv


def test_spss_measurement_levels(tmp_path: Path) -> None:
    _, meta = _export("spss", tmp_path / "out")["long"]
    assert meta.variable_measure["sex"] == "nominal"
    assert meta.variable_measure["visit"] == "ordinal"
    assert meta.variable_measure["fpg"] == "scale"


def test_long_has_a_row_per_participant_visit(tmp_path: Path) -> None:
    frame, meta = _export("stata", tmp_path / "out")["long"]
    # visits.csv of the example: 5 visits x 6 participants, each with measurements
    assert len(frame) == 30
    row = frame[(frame["participant_id"] == "P01") & (frame["visit_id"] == "d28")].iloc[0]
    assert row["fcp"] == pytest.approx(FCP_P01_D28, rel=1e-9)
    assert row["visit_day"] == 28
    assert meta.variable_value_labels["visit"][1].startswith("Baseline")


def test_broken_study_writes_nothing(tmp_path: Path) -> None:
    broken = EXAMPLE.parent / "broken-study"
    out = tmp_path / "out"
    result = runner.invoke(app, ["export", "spss", str(broken), "--out", str(out)])
    assert result.exit_code == 1
    assert not out.exists()


def test_existing_output_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["export", "stata", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 2
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
