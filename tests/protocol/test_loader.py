"""Loading protocols: the shipped files validate; malformed YAML names its line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from celltrial.protocol import ProtocolError, load_protocol, parse_protocol, shipped_protocols

LIAN_TEXT = (
    Path(__file__).parents[2] / "src/celltrial/protocol/protocols/lian2022.yaml"
).read_text()


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle` (counted independently)."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _error(text: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, "bad.yaml")
    return info.value


def test_shipped_protocols_load_with_the_seed_values() -> None:
    assert shipped_protocols() == ["chin2025", "lian2022", "zang2022"]
    lian = load_protocol("lian2022")
    assert [v.id for v in lian.trial_visits] == ["d0", "d14", "d21", "d28", "d84"]
    assert [v.id for v in lian.extension_visits] == ["m6", "m12", "m24", "m36"]
    assert [(v.lower_day, v.upper_day) for v in lian.visits][1] == (11, 17)  # 14 ± 3
    assert lian.dosing.cells_per_kg == 1e6 and lian.dosing.infusion_days == [0, 7, 14]
    assert lian.titration is not None and lian.titration.insulin_withdraw_u_per_kg == 0.2
    chin = load_protocol("chin2025")
    assert [v.id for v in chin.visits] == ["m0", "m6", "m12"]
    assert (chin.dosing.flat_min_cells, chin.dosing.flat_max_cells) == (5e7, 1e8)
    assert {s.id for s in chin.subgroups} >= {"hscrp_elevated", "ckd_early", "men", "women"}


def test_load_by_path_equals_load_by_name(tmp_path: Path) -> None:
    path = tmp_path / "copy.yaml"
    path.write_text(LIAN_TEXT)
    assert load_protocol(path) == load_protocol("lian2022")


def test_missing_file_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="no such file"):
        load_protocol("/nonexistent/protocol.yaml")


def test_wrong_type_names_line_and_key() -> None:
    text = LIAN_TEXT.replace("target_day: 14  #", "target_day: fourteen  #")
    issue = _error(text).issues[0]
    assert issue.line == _line_of(text, "target_day: fourteen")
    assert issue.key == "visits[1].target_day"
    assert "bad.yaml:" in str(issue)


def test_unknown_key_names_its_line() -> None:
    text = LIAN_TEXT.replace("  route: IV", "  rout: IV")
    issue = _error(text).issues[0]
    assert (issue.line, issue.key) == (_line_of(text, "  rout: IV"), "dosing.rout")
    assert "unknown key" in issue.message


def test_missing_section_is_reported() -> None:
    data = yaml.safe_load(LIAN_TEXT)
    del data["dosing"]
    issues = _error(yaml.safe_dump(data, sort_keys=False)).issues
    assert any(i.key == "dosing" and "missing" in i.message for i in issues)


def test_unknown_criterion_check_is_reported_at_the_criterion() -> None:
    text = LIAN_TEXT.replace("check: age", "check: birthday")
    issue = _error(text).issues[0]
    assert issue.key.startswith("eligibility[1]")
    assert issue.line == _line_of(text, "id: inc_age")


def test_unknown_analyte_in_a_criterion() -> None:
    text = LIAN_TEXT.replace("analyte: hba1c", "analyte: a1c")
    issue = _error(text).issues[0]
    assert issue.line == _line_of(text, "analyte: a1c") and "unknown analyte" in issue.message


def test_overlapping_windows_are_refused() -> None:
    text = LIAN_TEXT.replace("target_day: 21  #", "target_day: 16  #")
    issue = _error(text).issues[0]
    assert "overlaps" in issue.message and issue.key == "visits[2].window_before"


def test_duplicate_key_and_syntax_error_have_lines() -> None:
    dup = LIAN_TEXT.replace("run_in_days: 112", "run_in_days: 112\nrun_in_days: 10")
    assert _error(dup).issues[0].line == _line_of(dup, "run_in_days: 10")
    broken = LIAN_TEXT.replace("visits:\n", "visits: [\n", 1)
    assert _error(broken).issues[0].line > 0


def test_dose_count_must_match_infusion_days() -> None:
    text = LIAN_TEXT.replace("n_infusions: 3", "n_infusions: 2")
    issue = _error(text).issues[0]
    assert issue.key == "dosing" and "infusion_days" in issue.message


def test_deescalation_threshold_outside_the_target_is_an_error() -> None:
    bad = LIAN_TEXT.replace("fpg_below: 5.6", "fpg_below: 7.5")
    err = _error(bad)
    assert any("deescalate_when_stable" in i.message for i in err.issues), err


def test_deescalation_section_rejects_unknown_keys() -> None:
    bad = LIAN_TEXT.replace("fpg_fall_fraction: 0.10", "fpg_fall_fractoin: 0.10")
    err = _error(bad)
    line = _line_of(LIAN_TEXT, "fpg_fall_fraction: 0.10")
    assert any(i.line == line and "fpg_fall_fractoin" in i.key for i in err.issues), err


def test_lian_baseline_window_ends_at_the_first_infusion() -> None:
    # day 0 is the first infusion (L156), so "day 0 ± 3" may only reach back: days -3..0
    lian = load_protocol("lian2022")
    assert (lian.baseline_visit.lower_day, lian.baseline_visit.upper_day) == (-3, 0)
    assert lian.baseline_visit.upper_day <= lian.dosing.infusion_days[0]


def test_baseline_window_past_the_first_infusion_is_refused_with_its_line() -> None:
    text = LIAN_TEXT.replace("    window_after: 0\n", "    window_after: 3\n", 1)
    issue = _error(text).issues[0]
    assert issue.key == "visits[0].window_after"
    assert issue.line == _line_of(text, "    window_after: 3")
    assert "first infusion" in issue.message and "day 3" in issue.message


CHIN_TEXT = (
    Path(__file__).parents[2] / "src/celltrial/protocol/protocols/chin2025.yaml"
).read_text()


def _hscrp(protocol):  # the hs-CRP subgroup of a loaded protocol
    return next(s for s in protocol.subgroups if s.id == "hscrp_elevated")


def test_subgroup_threshold_in_another_unit_is_converted_to_canonical() -> None:
    # 0.3 mg/dL x 10 (1 dL = 0.1 L) = 3.0 mg/L: the same subgroup as the shipped file
    text = CHIN_TEXT.replace("threshold: 3.0  #", "threshold: 0.3  #").replace(
        "    unit: mg/L\n", "    unit: mg/dL\n"
    )
    sub = _hscrp(parse_protocol(text, "x.yaml"))
    assert (sub.threshold, sub.unit) == (pytest.approx(3.0), "mg/L")
    assert _hscrp(load_protocol("chin2025")).threshold == 3.0


def test_subgroup_threshold_unit_not_accepted_for_the_analyte_is_an_error() -> None:
    text = CHIN_TEXT.replace("    unit: mg/L\n", "    unit: mmol/L\n")
    issue = _error(text).issues[0]
    assert issue.key == "subgroups[0].unit"
    assert issue.line == _line_of(text, "unit: mmol/L")
    assert "mmol/L" in issue.message and "mg/dL" in issue.message


def test_lot_release_fraction_for_a_percentage_is_refused_with_its_line() -> None:
    # 0.95 read as a percentage would release a lot with 1 % CD73+ cells
    text = LIAN_TEXT.replace("  positive_min_pct: 95  #", "  positive_min_pct: 0.95  #")
    issue = _error(text).issues[0]
    assert issue.key == "lot_release.positive_min_pct"
    assert issue.line == _line_of(text, "positive_min_pct: 0.95")
    assert "percentage" in issue.message


def test_lot_release_positive_threshold_must_exceed_negative() -> None:
    text = LIAN_TEXT.replace("  negative_max_pct: 2  #", "  negative_max_pct: 96  #")
    issue = _error(text).issues[0]
    assert issue.key == "lot_release"
    assert issue.line == _line_of(text, "lot_release:")
    assert "must be above negative_max_pct" in issue.message


# A complete minimal protocol behind a three-line comment header; its lines, counted by hand:
#  1-3 comments, 4 id, 5 title, 6 design, 7 reference, 8 anchor, 9 visits:, 10 "- id: d0",
#  11 target_day, 12 window_before, 13 window_after, 14 baseline, 15 dosing:, 16 mode,
#  17 cells_per_kg, 18 n_infusions, 19 infusion_days, 20 lot_release:, 21-24 its keys,
#  25 outcomes:, 26 "- analyte: fpg".
MINIMAL = """\
# header comment 1
# header comment 2
# header comment 3
id: mini
title: Minimal
design: single_arm_trial
reference: none
anchor: first_infusion
visits:
  - id: d0
    target_day: 0
    window_before: 3
    window_after: 0
    baseline: true
dosing:
  mode: weight_based
  cells_per_kg: 1.0e+6
  n_infusions: 1
  infusion_days: [0]
lot_release:
  positive_markers: [cd73]
  positive_min_pct: 95
  negative_markers: [cd45]
  negative_max_pct: 2
outcomes:
  - analyte: fpg
"""


def test_minimal_protocol_loads() -> None:
    assert parse_protocol(MINIMAL).id == "mini"  # the cases below each break one thing


def test_missing_top_level_key_points_at_line_1_not_the_first_key() -> None:
    # the top-level mapping is the file; its first key (id, line 4) follows the header
    issues = _error(MINIMAL.replace("design: single_arm_trial\n", "")).issues
    assert [(i.line, i.key) for i in issues] == [(1, "design")]
    assert str(issues[0]) == "bad.yaml:1: key design: missing required key 'design'"


def test_missing_key_of_a_list_item_points_at_its_dash_line() -> None:
    # visits[0] starts at line 10 ("  - id: d0"); removing line 13 keeps it there
    issues = _error(MINIMAL.replace("    window_after: 0\n", "")).issues
    assert [(i.line, i.key) for i in issues] == [(10, "visits[0].window_after")]


def test_missing_key_of_a_section_points_at_its_key_line() -> None:
    # the dosing mapping opens at "dosing:" (line 15); removing line 19 keeps it there
    issues = _error(MINIMAL.replace("  infusion_days: [0]\n", "")).issues
    assert [(i.line, i.key) for i in issues] == [(15, "dosing.infusion_days")]


def test_missing_key_of_a_tagged_criterion_points_at_the_criterion() -> None:
    # the union tag 'measurement' that pydantic adds to the location is not in the file:
    # the criterion appended after line 26 starts at line 28 ("  - id: inc_hba1c")
    text = MINIMAL + (
        "eligibility:\n  - id: inc_hba1c\n    kind: inclusion\n    text: HbA1c <= 9.5 %\n"
        "    check: measurement\n    analyte: hba1c\n    max: 9.5\n"
    )
    issues = _error(text).issues
    assert [(i.line, i.key) for i in issues] == [(28, "eligibility[0].unit")]
