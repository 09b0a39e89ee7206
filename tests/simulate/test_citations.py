"""Seed-line citations of the lian2022 preset and targets point at the text they quote.

The seed (Lian 2022 as text, one line per L<n>) lives beside the repository in
../shared/seeds; without it there is nothing to check against and the test is skipped."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
SEED = ROOT.parent / "shared" / "seeds" / "lian-2022-trial.txt"
PRESETS = ROOT / "src/celltrial/simulate/presets"

pytestmark = pytest.mark.skipif(not SEED.is_file(), reason="seed text not present")


def _lines(source: str) -> str:
    """The seed text of the lines an 'L<a>' or 'L<a>-<b>' citation names."""
    text = SEED.read_text(encoding="utf-8").splitlines()
    out = []
    for a, b in re.findall(r"L(\d+)(?:-(\d+))?", source):
        out += text[int(a) - 1 : int(b or a)]
    return " ".join(out)


def _numbers(text: str) -> set[float]:
    return {float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)}


def test_table_1_targets_cite_the_line_holding_their_value():
    targets = yaml.safe_load((PRESETS / "lian2022_targets.yaml").read_text())
    for t in targets["baseline"]:
        assert {t["mean"], t["sd"]} <= _numbers(_lines(t["source"])), t


def test_quantile_targets_cite_the_lines_holding_their_median_and_iqr():
    targets = yaml.safe_load((PRESETS / "lian2022_targets.yaml").read_text())
    for t in targets["quantiles"]:
        assert {t["median"], t["q1"], t["q3"]} <= _numbers(_lines(t["source"])), t


def test_leukocyte_bump_cites_the_leukocyte_result():
    text = (ROOT / "src/celltrial/simulate/measurement.py").read_text()
    source = re.search(r"Lian 2022 (L[\d-]+) leukocytes", text)
    assert source is not None
    assert "leukocytes transiently increased" in _lines(source.group(1))


CHIN_SEED = ROOT.parent / "shared" / "seeds" / "chin-2025-registry-summary.txt"
# Keys that size the UC-MSC or trial effect: the Chin 2025 summary states directions, never
# sizes (C5-C12); oral-drug emax values cite Sherifali 2010 in their block comment
EFFECT_KEYS = re.compile(r"\b(emax_[bs]|msc_effect|s_link|size|assumed_change|responder_fraction):")


@pytest.mark.skipif(not CHIN_SEED.is_file(), reason="Chin 2025 summary not present")
@pytest.mark.parametrize("name", ["chin2025.yaml", "chin2025_targets.yaml"])
def test_chin2025_effect_sizes_are_marked_as_assumptions(name):
    summary = CHIN_SEED.read_text(encoding="utf-8").splitlines()
    for line in (PRESETS / name).read_text().splitlines():
        if EFFECT_KEYS.search(line.split("#")[0]):
            comment = line.split("#", 1)[-1]
            assert "[A]" in comment or "assumed" in comment, line
        for n in re.findall(r"\bC(\d+)\b", line.split("#", 1)[-1] if "#" in line else ""):
            assert 1 <= int(n) <= len(summary), line  # C<n> names a line of the summary


# How the paper names each analyte whose change it tests (Lian 2022 L181-210, L250-251, L289).
PAPER_NAMES = {
    "fpg": "FPG",
    "hba1c": "HbA1c",
    "homa_b": "function",  # "islet beta-cell function" (L190)
    "homa_ir": "HOMA-IR",
    "fcp": "FCP",
    "cp2h": "P2CP",
    "leukocytes": "leukocyte",
    "alt": "alanine aminotransferase",
    "creatinine": "creatinine",
    "cea": "carcinoembryonic antigen",
}


def test_significance_targets_cite_the_lines_naming_the_analyte_and_the_test_result():
    targets = yaml.safe_load((PRESETS / "lian2022_targets.yaml").read_text())
    for t in targets["significance"]:
        text = _lines(t["source"])
        assert PAPER_NAMES[t["quantity"]].lower() in text.lower(), t
        said = text.lower()
        if t["significant"]:
            assert "significantly" in said, t
        else:
            assert any(w in said for w in ("not", "no significant", "stable")), t


def test_count_targets_cite_the_lines_holding_their_count():
    targets = yaml.safe_load((PRESETS / "lian2022_targets.yaml").read_text())
    words = {1: "one", 4: "four", 16: "all patients"}  # as the paper writes them
    for t in targets["counts"]:
        text = _lines(t["source"])
        value = int(t["value"])
        assert value in _numbers(text) or words.get(value, "@") in text.lower(), t
