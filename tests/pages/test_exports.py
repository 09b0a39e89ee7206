"""The statistician's exports on the analysis page: the workbook read back (by the reader and
by `celltrial import excel`) into the same tables as the de-identified StudyData zip, cell
by cell; SPSS, Stata, SDTM and REDCap files of the de-identified participants, counted
against the example's CSV files; other roles refused, other studies absent."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import polars as pl
import pyreadstat
import pytest
from page_flow import SMALL_STUDY
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.data import read_study
from celltrial.data.excel_import import read_workbook

S = "/s/small-study"
pytestmark = pytest.mark.django_db
runner = CliRunner()
_register()


def _example_ids() -> set[str]:
    with open(SMALL_STUDY / "participants.csv") as f:
        return {r["participant_id"] for r in csv.DictReader(f)}


def _unzip(content: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        z.extractall(into)
    return into


def _no_lot_expiry():
    # the de-identified export shifts infusion dates, not lot expiry dates: with some
    # secrets a late infusion falls after its lot's expiry, which validate refuses
    from celltrial.registry.models import Lot

    Lot.objects.update(expiry_date=None)


def test_workbook_reads_back_as_the_zip_cell_by_cell(login_as, tmp_path):
    stat = login_as("st", "statistician", sites=())
    r = stat.get(f"{S}/export/xlsx/")
    assert r.status_code == 200 and r["Content-Disposition"].endswith('.xlsx"')
    book = tmp_path / "study.xlsx"
    book.write_bytes(r.content)
    folder = read_study(_unzip(stat.get(f"{S}/export.zip").content, tmp_path / "zip"), check="skip")
    assert not folder.participants["participant_id"].is_in(list(_example_ids())).any()
    back = read_workbook(book)
    out = tmp_path / "imported"
    result = runner.invoke(app, ["import", "excel", str(book), "--out", str(out)])
    assert result.exit_code == 0, result.output
    imported = read_study(out, check="skip")
    for name, expected in folder.tables().items():  # eight tables
        for study in (back, imported):
            got = getattr(study, name)
            assert got.schema == expected.schema, name
            assert got.shape == expected.shape and got.height > 0, name
            for column in expected.columns:  # cell by cell, nulls included
                pairs = zip(got[column].to_list(), expected[column].to_list(), strict=True)
                for i, (a, b) in enumerate(pairs):
                    assert a == b, (name, column, i, a, b)
    assert back.meta.study_id == folder.meta.study_id == "small-study-deidentified"


@pytest.mark.parametrize(("fmt", "suffix"), [("spss", "sav"), ("stata", "dta")])
def test_statistics_files_of_the_deidentified_participants(login_as, tmp_path, fmt, suffix):
    _no_lot_expiry()
    stat = login_as("st", "statistician", sites=())
    r = stat.get(f"{S}/export/{fmt}/")
    assert r.status_code == 200, r.content[:500]
    files = _unzip(r.content, tmp_path)
    read = pyreadstat.read_sav if fmt == "spss" else pyreadstat.read_dta
    wide, _ = read(str(files / f"small-study-deidentified_wide.{suffix}"))
    ids = set(wide["participant_id"])
    assert len(ids) == len(wide) == len(_example_ids()) and not ids & _example_ids()
    with open(SMALL_STUDY / "visits.csv") as f:
        visits = sum(1 for _ in csv.DictReader(f))
    long, _ = read(str(files / f"small-study-deidentified_long.{suffix}"))
    assert len(long) == visits  # one row per visit of the example


def test_sdtm_and_redcap_of_the_deidentified_participants(login_as, tmp_path):
    _no_lot_expiry()
    stat = login_as("st", "statistician", sites=())
    sdtm = _unzip(stat.get(f"{S}/export/sdtm/").content, tmp_path / "sdtm")
    dm = pl.read_csv(sdtm / "dm.csv")
    assert dm.height == len(_example_ids()) and (sdtm / "dm.xpt").exists()
    assert not any(pid in u for u in dm["USUBJID"] for pid in _example_ids())
    redcap = _unzip(stat.get(f"{S}/export/redcap/").content, tmp_path / "redcap")
    records = pl.read_csv(redcap / "records.csv", infer_schema=False)
    assert set(records[records.columns[0]]) & _example_ids() == set()
    with open(SMALL_STUDY / "lots.csv") as f:
        lots = {r["lot_id"] for r in csv.DictReader(f)}
    people = set(records[records.columns[0]]) - lots  # the lots are records of their own
    assert len(people) == len(_example_ids())
    assert (redcap / "project.xml").exists() and (redcap / "mapping.yaml").exists()


def test_export_refused_for_an_invalid_study_with_the_reason(login_as):
    from celltrial.registry.models import Participant

    stat = login_as("st", "statistician", sites=())
    Participant.objects.filter(participant_id="P01").update(sex="X")  # validate: sex F or M
    r = stat.get(f"{S}/export/spss/")
    assert r.status_code == 302
    page = stat.get(f"{S}/analysis/").content.decode()
    assert 'id="export-problems"' in page and "participants row" in page and "sex" in page


def test_export_roles_and_absent_studies(login_as):
    coordinator = login_as("cora", "coordinator")
    for fmt in ("xlsx", "spss", "sdtm"):
        assert coordinator.get(f"{S}/export/{fmt}/").status_code == 403
    stat = login_as("st", "statistician", sites=())
    assert stat.get(f"{S}/export/sas/").status_code == 404
    assert stat.get("/s/other-study/export/xlsx/").status_code == 404
