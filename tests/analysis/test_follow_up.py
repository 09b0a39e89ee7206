"""The long-term follow-up in the analysis: values at lian2022's extension visits are
summarised apart (median and quartiles counted by hand, type 6) and leave the paper's
outcome analyses exactly as they are without them."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from celltrial.analysis import analyze_study
from celltrial.data import read_study
from celltrial.report.tables import report_tables

SMALL = Path(__file__).parents[2] / "examples" / "small-study"
# first infusions (infusions.csv) + 180 days: P01 2019-03-04 -> 2019-08-31,
# P02 2019-03-11 -> 2019-09-07, P03 2019-03-18 -> 2019-09-14
MONTH_6 = {"P01": "2019-08-31", "P02": "2019-09-07", "P03": "2019-09-14"}
AFP = {"P01": ("2.5", "[IU]/mL"), "P02": ("4.0", "ng/mL"), "P03": ("6.0", "ng/mL")}
ANSWER = {"P01": "0", "P02": "0", "P03": "1"}


def _with_month_6(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(SMALL, folder)
    with (folder / "visits.csv").open("a") as f:
        f.writelines(f"{p},m6,180,{d},180,true\n" for p, d in MONTH_6.items())
    with (folder / "measurements.csv").open("a") as f:
        for p, d in MONTH_6.items():
            value, unit = AFP[p]
            f.write(f"{p},m6,{d} 09:00,afp,{value},{unit},true,lab\n")
            f.write(f"{p},m6,{d} 09:00,new_malignancy,{ANSWER[p]},1,true,lab\n")
    return folder


def test_follow_up_is_summarised_apart_from_the_papers_outcomes(tmp_path: Path) -> None:
    plain = analyze_study(read_study(SMALL, check="skip"), "lian2022", check="skip")
    extended = analyze_study(
        read_study(_with_month_6(tmp_path), check="skip"), "lian2022", check="skip"
    )
    assert plain.follow_up.height == 0
    rows = {r["analyte"]: r for r in extended.follow_up.iter_rows(named=True)}
    # AFP at m6: 2.5 IU/mL x 1.21 = 3.025, 4.0, 6.0 ng/mL; type 6 quartiles of n = 3 sit at
    # ranks (n + 1) x 0.25 = 1 and (n + 1) x 0.75 = 3
    afp = rows["afp"]
    assert (afp["visit_id"], afp["n"]) == ("m6", 3)
    assert (afp["median"], afp["q1"], afp["q3"]) == pytest.approx((4.0, 3.025, 6.0))
    assert afp["n_yes"] is None
    assert (rows["new_malignancy"]["n"], rows["new_malignancy"]["n_yes"]) == (3, 1)
    # the paper's analyses do not see the extension visit
    for name in ("summaries", "paired", "changes", "missing_summary"):
        frame = getattr(extended, name)
        assert "m6" not in frame["visit_id"].cast(pl.Utf8).to_list()
        assert_frame_equal(frame, getattr(plain, name))
    titles = [t.title for t in report_tables(extended)]
    assert titles[-1].endswith("Long-term safety follow-up (extension visits)")
    assert not any("Long-term" in t.title for t in report_tables(plain))
