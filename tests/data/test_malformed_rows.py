"""Malformed CSV rows (issue 3): each becomes a finding naming file and row; other rows read."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celltrial.data import read_study, validate

HEADER = ["participant_id", "site_id", "sex", "enrollment_date"]
FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _folder(tmp: Path, participants: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(dir=tmp))  # hypothesis may replay the same example
    (folder / "study.yaml").write_text("study_id: rows\n")
    (folder / "participants.csv").write_bytes(participants)
    return folder


def _good_rows(n: int) -> list[list[str]]:
    return [[f"P{i}", "S1", "MF"[i % 2], "2020-01-01"] for i in range(n)]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, *rows])
    return out.getvalue()


def test_extra_field_and_unterminated_quote_are_findings_with_rows(tmp_path):
    text = (
        "participant_id,site_id,sex,enrollment_date\n"
        "P1,S1,F,2020-01-01\n"
        "P2,S1,M,2020-01-01,extra\n"  # row 2: 5 fields
        'P3,"S1,F,2020-01-01\n'  # row 3: the quote never closes
        "P4,S1,F,2020-01-01\n"
        'P5,"S 1",F,2020-01-01\n'
    )
    study = read_study(_folder(tmp_path, text.encode()), check="skip")
    findings = [(f.row, f.severity, f.rule) for f in validate(study)]
    assert findings == [
        (2, "error", "row has 5 fields, header has 4; extra fields were not read"),
        (3, "error", "unterminated quote starting at row 3; the row was read as empty"),
    ]
    ids = study.participants["participant_id"].to_list()
    assert ids == ["P1", "P2", None, "P4", "P5"]  # every other row kept, in its place
    assert study.participants["site_id"][4] == "S 1"


def test_quoted_fields_with_commas_and_newlines_are_not_ragged(tmp_path):
    rows = _good_rows(3)
    rows[1][1] = "site, with comma\nand a newline"
    text = _csv(rows) + "P9,S1,F,2020-01-01,x,y\n"  # row 4: 6 fields
    study = read_study(_folder(tmp_path, text.encode()), check="skip")
    (finding,) = list(validate(study))
    assert (finding.row, finding.rule) == (
        4,
        "row has 6 fields, header has 4; extra fields were not read",
    )
    assert study.participants["site_id"][1] == "site, with comma\nand a newline"


@FAST
@given(
    n=st.integers(1, 30),
    data=st.data(),
)
def test_random_ragged_rows_are_found_where_inserted(tmp_path, n, data):
    rows = _good_rows(n)
    bad = sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=n), label="bad"))
    extra = data.draw(st.integers(1, 4), label="extra")
    for i in bad:
        rows[i] = rows[i] + ["x"] * extra
    folder = _folder(tmp_path, _csv(rows).encode())
    study = read_study(folder, check="skip")  # never raises
    found = [f for f in validate(study) if f.rule.startswith("row has")]
    assert [f.row for f in found] == [i + 1 for i in bad]
    assert {f.rule.split(";")[0] for f in found} <= {f"row has {4 + extra} fields, header has 4"}
    assert all(f.file and f.file.endswith("participants.csv") for f in found)
    # every row, bad ones included, keeps its place and its first four fields
    assert study.participants["participant_id"].to_list() == [f"P{i}" for i in range(n)]


def test_both_paths_read_a_clean_file_alike(tmp_path):
    # the malformed path (forced by one ragged row) reads other rows as the fast path does
    clean = _csv(_good_rows(5))
    fast = read_study(_folder(tmp_path, clean.encode()), check="skip").participants
    ragged = read_study(
        _folder(tmp_path, (clean + "P5,S1,F,2020-01-01,x\n").encode()), check="skip"
    )
    assert ragged.participants.head(5).equals(fast)
    assert ragged.participants.schema == pl.Schema(fast.schema)
