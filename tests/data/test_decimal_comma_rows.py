"""An unquoted decimal comma in a comma-separated file (1,54 for 1.54) adds one field to its
row: the finding says so, names the column, and the row gets no other finding."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celltrial.data import read_study, validate
from celltrial.data.csv_rows import pick_records

EXAMPLE = Path(__file__).parents[2] / "examples" / "small-study" / "measurements.csv"
HEADER = EXAMPLE.read_text().splitlines()[0]  # the real column order
GOOD = [
    "P01,d0,2019-03-04 07:30,fpg,9.3,mmol/L,true,lab",
    "P01,d0,2019-03-04 07:30,hba1c,7.8,%,,lab",
]
FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _folder(tmp: Path, lines: list[str]) -> Path:
    folder = Path(tempfile.mkdtemp(dir=tmp))  # hypothesis may replay the same example
    (folder / "study.yaml").write_text("study_id: commas\n")
    (folder / "measurements.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    return folder


def _row_findings(folder: Path, row: int) -> list[tuple]:
    found = validate(read_study(folder, check="skip"))
    return [(f.severity, f.column, f.value, f.rule) for f in found if f.row == row]


def test_decimal_comma_is_named_with_its_column_and_fix(tmp_path):
    line = "P01,d84,2019-04-17 07:30:00,hba1c,1,54,%,,lab"
    folder = _folder(tmp_path, [*GOOD, line, GOOD[0]])
    fields, header = next(csv.reader([line])), HEADER.split(",")
    assert (len(fields), len(header)) == (9, 8)
    column = header.index("value")  # 1 and 54 sit where value and unit would be
    assert fields[column] + "," + fields[column + 1] == "1,54"
    rule = (
        "row has 9 fields, header has 8: `1,54` looks like a decimal comma in an unquoted "
        "value; write 1.54 or quote it"
    )
    # the row is the file's third data row, and its only finding is this one
    assert _row_findings(folder, 3) == [("error", "value", "1,54", rule)]
    study = read_study(folder, check="skip")
    assert study.measurements.height == 4  # every row kept, in its place
    assert study.measurements["analyte"].to_list() == ["fpg", "hba1c", "hba1c", "fpg"]


def test_decimal_comma_after_quoted_fields_keeps_its_row_number(tmp_path):
    # a quoted newline makes record 2 two lines long: the bad record is data row 3, line 5
    quoted = 'P01,d0,2019-03-04 07:30,fpg,9.3,mmol/L,true,"lab\nsecond line"'
    line = "P02,d14,2019-03-19 07:30,fpg,-6,5,mmol/L,true,lab"
    folder = _folder(tmp_path, [GOOD[0], quoted, line])
    (finding,) = _row_findings(folder, 3)
    assert finding[1:3] == ("value", "-6,5")
    assert "write -6.5 or quote it" in finding[3]


def test_real_extra_field_gets_no_hint_and_no_knock_on(tmp_path):
    extra = "P01,d84,2019-04-17 07:30:00,hba1c,7.5,%,,lab,extra"
    in_bool = "P01,d84,2019-04-17 07:30:00,fpg,7.5,mmol/L,1,2,lab"  # fasting is not a number
    folder = _folder(tmp_path, [extra, in_bool])
    plain = "row has 9 fields, header has 8; extra fields were not read"
    assert _row_findings(folder, 1) == [("error", None, None, plain)]
    assert _row_findings(folder, 2) == [("error", None, None, plain)]


def test_short_row_gets_one_finding_only(tmp_path):
    # today's reading fills value and unit with nulls; "required value missing" would follow
    folder = _folder(tmp_path, [GOOD[0], "P01,d84,2019-04-17 07:30:00,hba1c"])
    rule = "row has 4 fields, header has 8; missing fields were read as empty"
    assert _row_findings(folder, 2) == [("error", None, None, rule)]


_TEXT = st.text(alphabet=st.sampled_from('ab1,5 .-"%\n;'), max_size=6)


@FAST
@given(cells=st.lists(_TEXT, min_size=9, max_size=12), at=st.integers(0, 2))
def test_any_extra_field_row_gives_exactly_one_finding(tmp_path, cells, at):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)  # quoted where csv must quote
    lines = [*GOOD]
    lines.insert(at, out.getvalue().rstrip("\n"))
    folder = _folder(tmp_path, lines)
    found = _row_findings(folder, at + 1)  # never raises
    assert len(found) == 1
    # a row whose first 8 cells are blank is read as an empty row (skipped with a warning)
    blank = all(not c.strip() for c in cells[:8])
    expected = "1 row with every cell empty" if blank else f"row has {len(cells)} fields, header"
    assert found[0][3].startswith(expected)
    assert read_study(folder, check="skip").measurements.height == 3 - blank  # the rows kept


@FAST
@given(records=st.lists(st.lists(_TEXT, min_size=1, max_size=4), min_size=2, max_size=8))
def test_pick_records_matches_the_csv_module(records):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    buf = np.frombuffer(out.getvalue().encode(), dtype=np.uint8)
    rows = np.arange(1, len(records), 2)  # every other data row (record 0 is the header)
    picked = pick_records(buf, rows).decode()
    assert list(csv.reader(io.StringIO(picked))) == [records[r] for r in rows]
