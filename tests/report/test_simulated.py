"""A study made by the simulator says so in every output; a real one does not."""

from __future__ import annotations

import dataclasses
import json

import pytest
from docx import Document
from openpyxl import load_workbook

from celltrial.analysis import analyze_study
from celltrial.data import read_study, write_study
from celltrial.report import write_outputs
from celltrial.report.simulated import TITLE_MARK
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials


@pytest.fixture(scope="module")
def simulated_study(tmp_path_factory):
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 8, seed=11), 0, 11)
    folder = tmp_path_factory.mktemp("sim") / "study"
    write_study(study, folder)
    return folder


def _outputs(study, out):
    results = analyze_study(study, "lian2022")
    return write_outputs(results, out)


def test_study_yaml_says_simulated_with_preset_and_seed(simulated_study) -> None:
    text = (simulated_study / "study.yaml").read_text()
    assert "simulated: true" in text
    meta = read_study(simulated_study).meta
    assert meta.simulated is True and meta.simulator == {"preset": "lian2022", "seed": 11}


def test_every_output_of_a_simulated_study_is_labelled(simulated_study, tmp_path) -> None:
    paths = _outputs(read_study(simulated_study), tmp_path)
    data = json.loads(paths.results_json.read_text())
    assert data["meta"]["simulated"] is True
    assert data["meta"]["simulator"] == {"preset": "lian2022", "seed": 11}
    html = paths.html.read_text()
    assert 'id="simulated"' in html and f"[{TITLE_MARK}]</title>" in html
    doc = Document(str(paths.docx))
    assert TITLE_MARK in doc.paragraphs[0].text  # the title
    assert doc.paragraphs[1].text.startswith(f"{TITLE_MARK}: ")  # the banner under it
    book = load_workbook(paths.xlsx)
    assert all(str(ws["A2"].value).startswith(f"{TITLE_MARK}: ") for ws in book.worksheets)
    svgs = [f for f in paths.figures if f.suffix == ".svg"]
    assert svgs and all(TITLE_MARK in f.read_text() for f in svgs)  # each figure's title


def test_a_real_study_carries_no_label(simulated_study, tmp_path) -> None:
    real = read_study(simulated_study)
    real = dataclasses.replace(
        real, meta=dataclasses.replace(real.meta, simulated=None, simulator=None)
    )
    write_study(real, tmp_path / "real")
    assert "simulated:" not in (tmp_path / "real" / "study.yaml").read_text()
    paths = _outputs(read_study(tmp_path / "real"), tmp_path / "out")
    assert json.loads(paths.results_json.read_text())["meta"]["simulated"] is False
    assert TITLE_MARK not in paths.html.read_text()
    assert load_workbook(paths.xlsx).worksheets[0]["A2"].value is None
    assert not any(TITLE_MARK in f.read_text() for f in paths.figures if f.suffix == ".svg")
