"""Lian 2022's long-term safety follow-up (issue 11): four extension visits at months 6, 12,
24 and 36 after the first infusion, AFP, CEA, CA19-9 and the malignancy question. Window
dates below are counted by hand on a calendar from the first infusion."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from celltrial.analysis.plan import plan_from_protocol
from celltrial.cli import _register, app
from celltrial.clinical.adverse_event_terms import normalised_term
from celltrial.clinical.units import convert
from celltrial.data import read_study
from celltrial.protocol import ProtocolError, load_protocol, parse_protocol
from celltrial.protocol.conformance import study_findings
from celltrial.protocol.windows import assign_visits, visit_dates
from celltrial.simulate.preset import load_preset
from celltrial.simulate.trial import Design

LIAN = load_protocol("lian2022")
LIAN_TEXT = (
    Path(__file__).parents[2] / "src/celltrial/protocol/protocols/lian2022.yaml"
).read_text()
EXAMPLES = Path(__file__).parents[2] / "examples"
FIRST = dt.date(2024, 1, 15)  # first infusion; 2024 is a leap year (29 February)
runner = CliRunner()
_register()

# (visit, target, window start, window end), counted on a calendar from 15 January 2024:
# +180 d: 16 days to 31 Jan, +29 Feb, +31 Mar, +30 Apr, +31 May, +30 Jun = 167 -> 13 Jul;
# +365 d over a leap day -> 14 Jan 2025; +730 -> 14 Jan 2026; +1095 -> 14 Jan 2027;
# 14 Jan - 60 d = 15 Nov (31 d back to 14 Dec, 29 more to 15 Nov); + 60 d = 15 Mar.
HAND = [
    ("m6", dt.date(2024, 7, 13), dt.date(2024, 6, 13), dt.date(2024, 8, 12)),
    ("m12", dt.date(2025, 1, 14), dt.date(2024, 12, 15), dt.date(2025, 2, 13)),
    ("m24", dt.date(2026, 1, 14), dt.date(2025, 11, 15), dt.date(2026, 3, 15)),
    ("m36", dt.date(2027, 1, 14), dt.date(2026, 11, 15), dt.date(2027, 3, 15)),
]


def test_extension_visits_are_marked_and_apart_from_the_papers_schedule() -> None:
    assert [v.id for v in LIAN.trial_visits] == ["d0", "d14", "d21", "d28", "d84"]
    assert [(v.id, v.target_day) for v in LIAN.extension_visits] == [
        ("m6", 180),
        ("m12", 365),
        ("m24", 730),
        ("m36", 1095),
    ]
    assert all("L299-301" in v.source for v in LIAN.extension_visits)
    assert [v.id for v in LIAN.trial_visits] == ["d0", "d14", "d21", "d28", "d84"]


def test_window_dates_from_the_first_infusion_match_the_calendar() -> None:
    anchors = pl.DataFrame({"participant_id": ["p1"], "anchor_date": [FIRST]})
    dates = visit_dates(anchors, LIAN).filter(pl.col("visit_id").str.starts_with("m"))
    got = dates.select("visit_id", "target_date", "window_start", "window_end").rows()
    assert got == HAND


@pytest.mark.parametrize(
    ("when", "visit", "status"),
    [
        (dt.date(2024, 6, 13), "m6", "in_window"),  # first day of the month-6 window
        (dt.date(2024, 8, 12), "m6", "in_window"),  # last day
        (dt.date(2024, 8, 13), None, "unscheduled"),  # the day after
        (dt.date(2025, 11, 15), "m24", "in_window"),
        (dt.date(2027, 3, 16), None, "unscheduled"),
    ],
)
def test_a_value_falls_into_its_long_term_window(when, visit, status) -> None:
    anchors = pl.DataFrame({"participant_id": ["p1"], "anchor_date": [FIRST]})
    m = pl.DataFrame(
        {
            "participant_id": ["p1"],
            "visit_id": [None],
            "time": [dt.datetime.combine(when, dt.time(9))],
            "analyte": ["afp"],
            "value": [3.0],
        },
        schema_overrides={"visit_id": pl.Utf8},
    )
    row = assign_visits(m, anchors, LIAN).row(0, named=True)
    assert (row["visit_id"], row["visit_status"]) == (visit, status)


def test_the_simulator_and_the_analysis_keep_the_papers_visits() -> None:
    design = Design.from_protocol(LIAN, load_preset("lian2022"))
    assert design.visit_ids == ("d0", "d14", "d21", "d28", "d84")
    assert design.last_day == 87  # day 84 + 3, not the month-36 window
    plan = plan_from_protocol(LIAN)
    assert plan.visits == ("d0", "d14", "d21", "d28", "d84")
    assert all(not set(o.visits) & {"m6", "m12", "m24", "m36"} for o in plan.outcomes)


def _edited(old: str, new: str) -> str:
    assert old in LIAN_TEXT
    return LIAN_TEXT.replace(old, new, 1)


def test_an_extension_visit_needs_a_source() -> None:
    text = _edited(
        "    extension: true\n    source: extension of L299-301 (3-year follow-up planned; "
        "visits and windows assumed)\n  - id: m12",
        "    extension: true\n  - id: m12",
    )
    with pytest.raises(ProtocolError, match="extension visit needs a source"):
        parse_protocol(text, "bad.yaml")


def test_an_outcome_may_not_be_analysed_at_an_extension_visit() -> None:
    text = _edited("visits: [d0, d28, d84]  # Figure 2B", "visits: [d0, d28, m6]  # Figure 2B")
    with pytest.raises(ProtocolError, match="'m6' is an extension"):
        parse_protocol(text, "bad.yaml")


def test_tumour_marker_units_convert_by_the_published_factors() -> None:
    # WHO IS 72/225: 1 IU AFP = 1.21 ng, so 10 IU/mL = 12.1 ng/mL
    assert convert(10.0, "afp", "[IU]/mL", "ng/mL") == pytest.approx(12.1)
    assert convert(4.2, "cea", "ug/L", "ng/mL") == pytest.approx(4.2)  # 1 ug/L = 1 ng/mL
    assert convert(37.0, "ca199", "k[U]/L", "U/mL") == pytest.approx(37.0)  # 1 kU/L = 1 U/mL


def test_malignancy_yes_is_reported_as_an_adverse_event_term() -> None:
    terms = pl.Series(["  Neoplasm malignant ", "cancer", "New malignancy"])
    assert pl.select(normalised_term(pl.lit(terms))).to_series().to_list() == ["Malignancy"] * 3


def _study_with_month_6(tmp_path: Path, rows: list[str]) -> Path:
    """examples/small-study with P01's month-6 visit: P01 was first infused on 2019-03-04,
    so day 180 is 2019-08-31 (27 days to 31 Mar, +30 +31 +30 +31 +31 = 180)."""
    folder = tmp_path / "study"
    shutil.copytree(EXAMPLES / "small-study", folder)
    with (folder / "visits.csv").open("a") as f:
        f.write("P01,m6,180,2019-08-31,180,true\n")
    with (folder / "measurements.csv").open("a") as f:
        f.writelines(f"P01,m6,2019-08-31 09:00,{row},true,lab\n" for row in rows)
    return folder


def test_validate_accepts_the_follow_up_visit_and_converts_afp(tmp_path: Path) -> None:
    folder = _study_with_month_6(
        tmp_path, ["afp,2.5,[IU]/mL", "cea,1.8,ng/mL", "ca199,12,U/mL", "new_malignancy,0,1"]
    )
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "0 errors, 1 warning: valid" in result.output  # the example's own fcp warning
    m = read_study(folder, check="skip").measurements.filter(pl.col("visit_id") == "m6")
    afp = m.filter(pl.col("analyte") == "afp").row(0, named=True)
    assert (afp["value"], afp["unit"]) == (pytest.approx(2.5 * 1.21), "ng/mL")


def test_malignancy_answer_other_than_yes_or_no_is_an_error(tmp_path: Path) -> None:
    folder = _study_with_month_6(tmp_path, ["new_malignancy,0.5,1"])
    found = study_findings(read_study(folder, check="skip"), LIAN).frame
    errors = found.filter(pl.col("severity") == "error")
    assert errors["rule"].to_list() == ["new_malignancy is a yes/no answer: 1 (yes) or 0 (no)"]


def test_malignancy_yes_is_a_warning_for_review(tmp_path: Path) -> None:
    folder = _study_with_month_6(tmp_path, ["new_malignancy,1,1"])
    found = study_findings(read_study(folder, check="skip"), LIAN).frame
    assert found.filter(pl.col("severity") == "error").height == 0
    rules = found.filter(pl.col("column") == "value")["rule"].to_list()
    assert any(r.startswith("new_malignancy = 1") for r in rules)


def test_protocol_show_marks_the_extension_visits() -> None:
    result = runner.invoke(app, ["protocol", "show", "lian2022"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    table = lines[: next(i for i, line in enumerate(lines) if line.startswith("Dosing"))]
    rows = [line for line in table if line.startswith("│")]
    marked = {line.split("│")[1].strip(): line.split("│")[6].strip() for line in rows}
    assert marked == {
        "d0": "paper",
        "d14": "paper",
        "d21": "paper",
        "d28": "paper",
        "d84": "paper",
        "m6": "extension",
        "m12": "extension",
        "m24": "extension",
        "m36": "extension",
    }
