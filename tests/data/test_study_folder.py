"""read_study / write_study: canonical units on load, round trips, atomic writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from celltrial.data import StudyReadError, read_study, validate, write_study
from celltrial.data.canonical import unit_factors

SMALL = Path(__file__).parents[2] / "examples" / "small-study"


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"study.yaml": "study_id: t\n", **files}
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def _measurement(study, pid: str, visit: str, analyte: str) -> dict:
    m = study.measurements.filter(
        (pl.col("participant_id") == pid)
        & (pl.col("visit_id") == visit)
        & (pl.col("analyte") == analyte)
    )
    assert m.height == 1
    return m.row(0, named=True)


def test_small_study_glucose_mg_dl_is_converted_to_mmol_l():
    study = read_study(SMALL, check="skip")
    row = _measurement(study, "P04", "d0", "fpg")
    # entered 162 mg/dL; glucose M = 180.16 g/mol, so 162 / 18.016 mmol/L (by hand)
    assert (row["value_as_entered"], row["unit_as_entered"]) == ("162", "mg/dL")
    assert row["value"] == pytest.approx(162 / 18.016)
    assert row["unit"] == "mmol/L"


def test_small_study_hba1c_ifcc_and_cpeptide_ng_ml():
    study = read_study(SMALL, check="skip")
    hba1c = _measurement(study, "P04", "d0", "hba1c")
    # 76 mmol/mol -> 0.09148 * 76 + 2.152 = 9.10448 % NGSP (Hoelzel 2004 master equation)
    assert hba1c["value_as_entered"] == "76"
    assert hba1c["value"] == pytest.approx(9.10448)
    fcp = _measurement(study, "P01", "d0", "fcp")
    # 1.27 ng/mL * 1e6 / 3020.3 g/mol = 420.49 pmol/L (by hand)
    assert fcp["value_as_entered"] == "1.27"
    assert fcp["value"] == pytest.approx(420.488, abs=1e-3)
    creat = _measurement(study, "P04", "d0", "creatinine")
    # 0.75 mg/dL * 88.4 = 66.3 umol/L (KDIGO 2012)
    assert creat["value"] == pytest.approx(66.3)


def test_small_study_types_and_counts():
    study = read_study(SMALL, check="skip")
    assert study.meta.study_id == "small-study"
    assert study.participants.height == 6
    assert study.measurements.height == 144 + 18  # 144 labs + sbp, dbp, GAD-Ab at d0 x 6
    assert study.infusions["start_time"].dtype == pl.Datetime("us")
    assert study.participants["enrollment_date"][0] == dt.date(2019, 3, 4)
    assert study.lots["passage"].to_list() == [4, 5, 5]


def test_small_study_is_valid_with_one_warning():
    findings = validate(read_study(SMALL, check="skip"))
    assert findings.errors == 0
    assert findings.warnings == 1
    (warning,) = list(findings)
    assert (warning.table, warning.column) == ("measurements", "value")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_keeps_every_table(tmp_path, fmt):
    study = read_study(SMALL, check="skip")
    write_study(study, tmp_path / "copy", format=fmt)
    again = read_study(tmp_path / "copy", check="skip")
    for name, frame in study.tables().items():
        assert again.tables()[name].equals(frame), name
    assert again.meta == study.meta


def test_write_keeps_previous_folder_when_writing_fails(tmp_path):
    target = write_study(read_study(SMALL, check="skip"), tmp_path / "study")
    (target / "README.md").write_text("notes")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    broken = read_study(SMALL, check="skip").with_table("visits", pl.DataFrame({"x": [object()]}))
    with pytest.raises(Exception):  # noqa: B017 - any failure of the writer
        write_study(broken, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["study"]  # no temp folder left


def test_write_replaces_and_keeps_other_files(tmp_path):
    target = write_study(read_study(SMALL, check="skip"), tmp_path / "study")
    (target / "README.md").write_text("notes")
    write_study(read_study(SMALL, check="skip"), target, format="parquet")
    names = sorted(p.name for p in target.iterdir())
    assert "README.md" in names and "measurements.parquet" in names
    assert "measurements.csv" not in names


def test_missing_table_files_are_empty_tables(tmp_path):
    folder = _write(
        tmp_path / "s",
        {"participants.csv": "participant_id,site_id,sex,enrollment_date\nA,S1,F,2020-01-02\n"},
    )
    study = read_study(folder, check="skip")
    assert study.lots.height == 0 and study.participants.height == 1
    assert validate(study).errors == 0


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "study.yaml: missing"),
        ({"study.yaml": "study_id: [unclosed"}, "not readable YAML"),
        ({"study.yaml": "- a list\n"}, "must be a mapping with a study_id"),
        ({"study.yaml": "study_id: x\nformat_version: 99\n"}, "format_version 99"),
        ({"lots.csv": b"\x00\x01\x02binary"}, "lots.csv: binary content"),
        ({"lots.parquet": b"PAR1 not really"}, "lots.parquet: not a readable Parquet"),
        ({"lots.csv": "lot_id\n", "lots.parquet": b""}, "both lots.csv and lots.parquet"),
    ],
)
def test_unreadable_folder_raises_study_read_error(tmp_path, files, message):
    folder = tmp_path / "s"
    folder.mkdir()
    if files and "study.yaml" not in files:
        files = {"study.yaml": "study_id: t\n", **files}
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    with pytest.raises(StudyReadError, match=message):
        read_study(folder, check="skip")


def test_unit_keys_are_distinct_within_each_analyte():
    # lower-cased matching of units is only safe if no analyte has two units that collide
    table = unit_factors()
    assert table.select("analyte", "unit_key").is_duplicated().sum() == 0


def test_mixed_datetime_spellings_in_one_column(tmp_path):
    rows = "P1,2020-01-02T08:00:00,fpg,7,mmol/L\nP1,2020-01-03 08:15,fpg,7,mmol/L\n"
    rows += "P1,2020-01-04,fpg,7,mmol/L\nP1,2020-01-05 08:00:00.250000,fpg,7,mmol/L\n"
    folder = _write(
        tmp_path / "s", {"measurements.csv": "participant_id,time,analyte,value,unit\n" + rows}
    )
    times = read_study(folder, check="skip").measurements["time"].to_list()
    assert times == [
        dt.datetime(2020, 1, 2, 8, 0),
        dt.datetime(2020, 1, 3, 8, 15),
        dt.datetime(2020, 1, 4, 0, 0),
        dt.datetime(2020, 1, 5, 8, 0, 0, 250000),
    ]


@pytest.mark.parametrize("name", ["participants.csv", "participants.parquet"])
def test_folder_named_like_a_table_file_is_a_read_error(tmp_path, name):
    folder = _write(tmp_path / "s", {})
    (folder / name).mkdir()
    with pytest.raises(StudyReadError, match=rf"{name}: is a folder"):
        read_study(folder, check="skip")


def test_study_yaml_folder_is_a_read_error(tmp_path):
    folder = tmp_path / "s"
    (folder / "study.yaml").mkdir(parents=True)
    with pytest.raises(StudyReadError, match=r"study\.yaml: is a folder"):
        read_study(folder, check="skip")


def test_permission_error_names_the_file(tmp_path, monkeypatch):
    # tests may run as root, where chmod 000 does not stop reading: refuse the open instead
    folder = _write(tmp_path / "s", {"lots.csv": "lot_id\nL1\n"})
    real_open = Path.open

    def refuse(self, *args, **kwargs):
        if self.name == "lots.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(StudyReadError, match=r"lots\.csv: cannot be read \(Permission denied\)"):
        read_study(folder, check="skip")


def test_write_swaps_atomically_when_the_system_can(tmp_path, monkeypatch):
    from celltrial.data import folder as folder_module

    calls = []
    real = folder_module.exchange

    def spy(a, b):
        calls.append((a.name, b.name))
        return real(a, b)

    monkeypatch.setattr(folder_module, "exchange", spy)
    target = write_study(read_study(SMALL, check="skip"), tmp_path / "study")
    write_study(read_study(SMALL, check="skip"), target, format="parquet")
    assert len(calls) == 1 and calls[0][1] == "study"  # only the second write swaps
    assert (target / "measurements.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["study"]  # the old folder is gone


def test_exchange_swaps_two_folders(tmp_path):
    from celltrial.data.folder import exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("from a")
    (b / "x").write_text("from b")
    if not exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not available here")
    assert ((a / "x").read_text(), (b / "x").read_text()) == ("from b", "from a")


class _Crash(BaseException):
    """A process killed between the two renames: no except clause runs."""


def _crash_between_renames(monkeypatch):
    from celltrial.data import folder as folder_module

    monkeypatch.setattr(folder_module, "exchange", lambda a, b: False)  # the fallback path
    real_rename = Path.rename
    count = {"n": 0}

    def rename(self, target):
        count["n"] += 1
        if count["n"] == 2:  # target -> .old-* done; .tmp-* -> target dies
            raise _Crash
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    return real_rename


@pytest.mark.parametrize("then", ["read", "write"])
def test_crash_between_renames_is_recovered(tmp_path, monkeypatch, then):
    target = write_study(read_study(SMALL, check="skip"), tmp_path / "study")
    (target / "README.md").write_text("notes")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    real_rename = _crash_between_renames(monkeypatch)
    with pytest.raises(_Crash):
        write_study(read_study(SMALL, check="skip"), target, format="parquet")
    monkeypatch.setattr(Path, "rename", real_rename)
    assert not target.exists()
    (old,) = [p for p in tmp_path.iterdir() if p.name.startswith(".study.old-")]
    if then == "read":
        study = read_study(target, check="skip")  # puts the old folder back, then reads it
        assert study.participants.height == 6
        assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    else:
        write_study(read_study(SMALL, check="skip"), target, format="parquet")
        assert (target / "README.md").read_text() == "notes"  # kept from the old folder
        assert (target / "measurements.parquet").exists()
    assert not old.exists()
