import base64
import io
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import polars as pl
import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from celltrial.analysis import analyze_study
from celltrial.report import write_outputs
from celltrial.report.html import methods_paragraph
from celltrial.report.tables import _fmt, _p, report_tables
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 10, seed=3))
    results = analyze_study(study, "lian2022")
    out = tmp_path_factory.mktemp("report")
    return results, write_outputs(results, out), out


def test_every_table_in_xlsx_docx_and_html(written) -> None:
    results, paths, _ = written
    tables = report_tables(results)
    assert load_workbook(paths.xlsx).sheetnames == [t.key for t in tables]
    doc = Document(str(paths.docx))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading 2")]
    assert headings == [t.title for t in tables]
    assert len(doc.tables) == len(tables)
    for t, dt in zip(tables, doc.tables, strict=True):
        assert len(dt.rows) == t.frame.height + 1
    html = paths.html.read_text()
    for t in tables:
        assert f'id="{t.key}"' in html and t.title in html


def test_xlsx_cells_are_the_results_numbers(written) -> None:
    results, paths, _ = written
    sheet = load_workbook(paths.xlsx)["per_visit"]
    first = [c.value for c in sheet[4]]
    row = results.summaries.row(0, named=True)
    # "mean ± SD" printed with two decimals from the same numbers
    assert first[3] == f"{row['mean']:.2f} ± {row['sd']:.2f}"
    assert first[2] == str(row["n"])


def test_every_image_decodes(written) -> None:
    _, paths, _out = written
    assert len(paths.figures) == 10
    for f in paths.figures:
        if f.suffix == ".png":
            Image.open(f).verify()
        else:
            assert ET.parse(f).getroot().tag.endswith("svg")
    html = paths.html.read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(embedded) == 5
    for data in embedded:
        img = Image.open(io.BytesIO(base64.b64decode(data)))
        assert img.size[0] > 100
    assert "<img" in html and 'src="http' not in html  # self-contained


def test_methods_name_every_test_and_versions(written) -> None:
    results, paths, _ = written
    text = methods_paragraph(results)
    for word in [
        "Wilcoxon",
        "Hodges-Lehmann",
        "paired t-test",
        "Holm",
        "Wilson",
        "Mann-Whitney",
        "Fisher",
        "mixed model",
        "type 6",
    ]:
        assert word.lower() in text.lower()
    for name, version in results.meta["software"].items():
        assert f"{name} {version}" in text
    data = json.loads(paths.results_json.read_text())
    assert data["meta"]["methods"]["quantiles"].startswith("SPSS")


def test_number_formatting_by_hand() -> None:
    x = pl.DataFrame({"x": [7.5, -3.14159, 0.0004, None, 12.0]})
    got = x.select(_fmt(pl.col("x")).alias("f"), _p(pl.col("x")).alias("p"))
    assert got["f"].to_list() == ["7.50", "-3.14", "0.00", "", "12.00"]
    assert got["p"].to_list() == ["7.500", "<0.001", "<0.001", "", "12.000"]
    assert np.isclose(float(got["f"][0]), 7.5)


def test_trajectories_of_a_large_study_show_a_labelled_sample(written, tmp_path) -> None:
    import dataclasses

    from celltrial.report.figures import TRAJECTORY_SAMPLE, _trajectories, trajectory_sample

    results, _, _ = written
    n = 500
    visits = results.meta["visits"]
    big = pl.DataFrame(
        {
            "participant_id": np.repeat([f"Q{i:04d}" for i in range(n)], len(visits)),
            "visit_id": np.tile(visits, n),
            "analyte": "fpg",
            "value": np.random.default_rng(0).normal(8, 1, n * len(visits)),
        }
    )
    r = dataclasses.replace(results, values=big)
    shown = trajectory_sample(r)
    assert len(shown) == len(set(shown)) == TRAJECTORY_SAMPLE
    assert set(shown) <= set(big["participant_id"]) and trajectory_sample(r) == shown
    fig = _trajectories(r, ["fpg"], tmp_path)
    svg = fig.svg.read_text()
    assert f"random sample of {TRAJECTORY_SAMPLE} of {n:,} participants" in svg
    # one line per sampled participant in the panel
    assert svg.count('id="line2d_') >= TRAJECTORY_SAMPLE
