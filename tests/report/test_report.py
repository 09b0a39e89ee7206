import base64
import html
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
from celltrial.analysis.methods import SOFTWARE
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
    shown = [t for t in tables if not t.omitted]
    assert len(doc.tables) == len(shown)  # an omitted table is its title and one sentence
    for t, dt in zip(shown, doc.tables, strict=True):
        assert len(dt.rows) == t.frame.height + 1
    html = paths.html.read_text()
    for t in tables:
        assert f'id="{t.key}"' in html and t.title in html
    # numbered in order, the omitted ones without a number
    assert [t.title.split(".")[0] for t in shown] == [
        f"Table {k}" for k in range(1, len(shown) + 1)
    ]


def test_xlsx_stores_numbers_as_numbers(written) -> None:
    results, paths, _ = written
    sheet = load_workbook(paths.xlsx)["per_visit"]
    header = [c.value for c in sheet[3]]
    first = {h: c for h, c in zip(header, sheet[4], strict=True)}
    row = results.summaries.row(0, named=True)  # fasting glucose at baseline
    assert isinstance(first["n"].value, int) and first["n"].value == row["n"]
    assert isinstance(first["Mean"].value, float) and first["Mean"].value == row["mean"]
    assert first["Q3"].value == row["q3"]
    # fasting glucose: plausible 3-25 mmol/L, geometric midpoint 8.66 -> 3 significant
    # digits = 2 decimals (report.precision)
    assert first["Mean"].number_format == "0.00" and first["n"].number_format == "0"
    paired = load_workbook(paths.xlsx)["paired"]
    head = [c.value for c in paired[3]]
    p_cell = paired.cell(row=4, column=head.index("Wilcoxon P (Holm)") + 1)
    assert isinstance(p_cell.value, float) and "<0.001" in p_cell.number_format


def test_every_image_decodes(written) -> None:
    _, paths, _out = written
    assert len(paths.figures) == 12
    for f in paths.figures:
        if f.suffix == ".png":
            Image.open(f).verify()
        else:
            assert ET.parse(f).getroot().tag.endswith("svg")
    html = paths.html.read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(embedded) == 6
    for data in embedded:
        img = Image.open(io.BytesIO(base64.b64decode(data)))
        assert img.size[0] > 100
    assert "<img" in html and 'src="http' not in html  # self-contained


def test_methods_paragraph_names_every_test_properly(written) -> None:
    results, paths, _ = written
    text = methods_paragraph(results)
    for phrase in [
        "Wilcoxon signed-rank test",
        "SPSS 25",  # the default rank-test convention (analysis.ranking)
        "normal approximation with tie correction",
        "Hodges-Lehmann estimate",
        "Walsh averages",
        "paired t-test",
        "Holm's step-down method",
        "Wilson score",
        "Mann-Whitney U test",
        "Fisher's exact test",
        "linear mixed model",
        "random intercept",
        "restricted maximum likelihood (REML)",
        "Hyndman and Fan type 6",
        "baseline (day 0, before the first infusion)",  # the lian2022 label of d0
    ]:
        assert phrase in text, phrase
    assert "wilcoxon" not in text and "otherwise;" not in text and "), otherwise" not in text
    for name, version in results.meta["software"].items():
        assert f"{SOFTWARE[name]} {version}" in text
    assert text.count(". ") >= 10 and text.endswith(").")
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
    # one line per sampled participant in the panel (one path each in the line collection)
    start = svg.index('id="LineCollection_1"')
    assert svg[start : svg.index("</g>", start)].count("<path") == TRAJECTORY_SAMPLE


def test_display_units_replace_ucum_codes(written) -> None:
    from celltrial.report.labels import label

    assert label("egfr") == "eGFR (CKD-EPI 2021), mL/min/1.73 m²"
    assert label("leukocytes") == "Leukocytes, ×10⁹/L"
    assert label("creatinine") == "Serum creatinine, µmol/L"
    assert label("sbp").endswith(", mmHg") and label("bmi").endswith(", kg/m²")
    assert label("homa_cp_ir") == "HOMA insulin resistance from C-peptide"  # unit "1": none
    _, paths, out = written
    text = paths.html.read_text() + "".join(p.read_text() for p in out.glob("figures/*.svg"))
    for code in ("{1.73_m2}", "10*9/L", "umol/L", "mm[Hg]", "kg/m2", ", 1<"):
        assert code not in text, code


def test_decimals_from_the_catalogue_magnitude(written) -> None:
    from celltrial.report.precision import decimals

    # geometric midpoints of the plausible ranges: C-peptide sqrt(10 x 5000) = 224 -> 3
    # significant digits = 0 decimals; hs-CRP sqrt(0.05 x 200) = 3.2 -> 2; ALT sqrt(3 x 1000)
    # = 55 -> 1
    assert (decimals("fcp"), decimals("hscrp"), decimals("alt")) == (0, 2, 1)
    results, _, _ = written
    table = next(t for t in report_tables(results) if t.key == "per_visit")
    fcp = results.summaries.filter(pl.col("analyte") == "fcp").row(0, named=True)
    row = table.frame.filter(pl.col("Outcome") == "Fasting C-peptide, pmol/L").row(0, named=True)
    assert row["Mean ± SD"] == f"{fcp['mean']:.0f} ± {fcp['sd']:.0f}"


def test_marks_use_holm_adjusted_p(written, tmp_path) -> None:
    import dataclasses

    from celltrial.report.figures import _boxes, _mark, visit_marks

    assert [_mark(p) for p in (0.009, 0.01, 0.049, 0.05, None)] == ["b", "a", "a", "", ""]
    results, _, _ = written
    # raw P 0.025 but Holm P 0.050 (two visits): no mark, as issue 6 asks
    paired = results.paired.with_columns(
        pl.when(pl.col("analyte") == "hba1c")
        .then(0.025)
        .otherwise(pl.col("p_value"))
        .alias("p_value"),
        pl.when(pl.col("analyte") == "hba1c")
        .then(0.05)
        .otherwise(pl.col("p_holm"))
        .alias("p_holm"),
    )
    r = dataclasses.replace(results, paired=paired)
    assert visit_marks(r, "hba1c") == {"d28": "", "d84": ""}
    r = dataclasses.replace(results, paired=paired.with_columns(pl.lit(0.004).alias("p_holm")))
    fig = _boxes(r, ["hba1c"], tmp_path, "box", "Box")
    svg = fig.svg.read_text()
    assert svg.count("<!-- b -->") == 2 and "Holm-adjusted" in svg  # key in the image
    assert "Holm-adjusted" in fig.caption
    n = results.summaries.filter(pl.col("analyte") == "hba1c")["n"].to_list()
    assert svg.count(f"<!-- n = {n[0]} -->") == 3 and "<!-- Day 28 -->" in svg


def test_dose_legend_follows_the_stack(written, tmp_path) -> None:
    from celltrial.analysis.medication import CATEGORIES
    from celltrial.report.figures import _dose_bars

    results, _, _ = written
    svg = _dose_bars(results, tmp_path).svg.read_text()
    # matplotlib escapes the labels in its SVG comments ("reduced 10 to &lt; 50 %")
    present = [c for c in CATEGORIES if f"<!-- {html.escape(c, quote=False)} -->" in svg]
    where = [svg.index(f"<!-- {html.escape(c, quote=False)} -->") for c in present]
    # bars stack CATEGORIES bottom-up, so the legend lists them top-down: reversed order
    assert len(present) >= 2 and where == sorted(where, reverse=True)


def test_no_non_completers_is_one_sentence(written) -> None:
    results, _, _ = written
    t = next(t for t in report_tables(results) if t.key == "completers")
    n = results.meta["n_participants"]
    assert t.omitted and t.note.startswith(f"All of the {n} participants")
    assert "a group has no values" not in t.note


def test_completers_table_with_non_completers(written) -> None:
    from celltrial.analysis.study import analyze_study as analyse

    study = build_study(simulate_trials(load_preset("lian2022"), 1, 10, seed=3))
    gone = study.measurements.filter(
        ~(
            pl.col("participant_id").is_in(study.participants["participant_id"].head(3).implode())
            & (pl.col("visit_id") == "d84")
        )
    )
    r = analyse(study.with_table("measurements", gone), "lian2022")
    t = next(t for t in report_tables(r) if t.key == "completers")
    assert not t.omitted and "Test" not in t.frame.columns  # test named in the footnote
    assert "a: Mann-Whitney U test; b: Fisher's exact test." in t.note
    men = t.frame.filter(pl.col("Baseline variable") == "Men, n").row(0, named=True)
    assert men["P"].endswith(" b")


def test_no_adverse_events_omits_the_detail_tables(written) -> None:
    import dataclasses

    results, _, _ = written
    none = results.ae_overall.with_columns(pl.lit(0).alias("events"), pl.lit(0).alias("count"))
    r = dataclasses.replace(results, ae_overall=none, ae_events=results.ae_events.head(0))
    tables = {t.key: t for t in report_tables(r)}
    assert all(tables[k].omitted for k in ("ae_term", "ae_infusion", "ae_term_infusion", "ae_time"))
    assert tables["ae_term"].note == "No adverse events were recorded."
    assert not tables["ae_overall"].omitted
