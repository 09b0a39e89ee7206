"""The SDTM package: the checks the issue lists, each computed here without the package's own
checker (Python datetime for study days, regular expressions for ISO 8601, pyreadstat reading
the XPT back), on the example study and on a simulated lian2022 trial."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pyreadstat
import pytest
import yaml
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.data import read_study
from celltrial.exchange.sdtm.metadata import terminology, variables
from celltrial.exchange.sdtm.package import check, datasets
from celltrial.protocol import load_protocol
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials

EXAMPLE = Path(__file__).parents[2] / "examples" / "small-study"
DATASETS = ("DM", "EX", "LB", "VS", "AE", "CM", "SV", "TA", "TV", "TS")
runner = CliRunner()
_register()

# SDTMIG 3.4 required and expected variables of each domain CellTrial writes (from the
# domain tables of the guide, typed here apart from variables.yaml)
REQUIRED = {
    "DM": {
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "SUBJID",
        "SITEID",
        "SEX",
        "ARMCD",
        "ARM",
        "ACTARMCD",
        "ACTARM",
        "COUNTRY",
        "RFSTDTC",
        "AGE",
        "AGEU",
    },
    "EX": {"STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXSTDTC"},
    "LB": {
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "LBSEQ",
        "LBTESTCD",
        "LBTEST",
        "LBORRES",
        "LBORRESU",
        "LBSTRESC",
        "LBSTRESN",
        "LBSTRESU",
        "VISITNUM",
        "LBDTC",
    },
    "VS": {
        "STUDYID",
        "DOMAIN",
        "USUBJID",
        "VSSEQ",
        "VSTESTCD",
        "VSTEST",
        "VSORRES",
        "VSSTRESN",
        "VSDTC",
    },
    "AE": {"STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AESTDTC", "AESER"},
    "CM": {"STUDYID", "DOMAIN", "USUBJID", "CMSEQ", "CMTRT"},
    "SV": {"STUDYID", "DOMAIN", "USUBJID", "VISITNUM", "SVSTDTC"},
    "TA": {"STUDYID", "DOMAIN", "ARMCD", "ARM", "TAETORD", "ETCD", "EPOCH"},
    "TV": {"STUDYID", "DOMAIN", "VISITNUM", "TVSTRL"},
    "TS": {"STUDYID", "DOMAIN", "TSSEQ", "TSPARMCD", "TSPARM", "TSVAL"},
}
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")


@pytest.fixture(scope="module")
def example_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdtm") / "package"
    result = runner.invoke(
        app, ["export", "sdtm", str(EXAMPLE), "--out", str(out), "--country", "CHN"]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def simulated_sets() -> dict[str, pl.DataFrame]:
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 16, 7), 0, 7)
    return datasets(study, load_protocol("lian2022"), "CHN")


def _csv(package: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(package / f"{name.lower()}.csv", infer_schema_length=0)


def test_required_and_expected_variables_present(example_package: Path) -> None:
    for name in DATASETS:
        assert REQUIRED[name] <= set(_csv(example_package, name).columns), name


def test_dates_are_iso_8601(example_package: Path) -> None:
    for name in DATASETS:
        frame = _csv(example_package, name)
        for column in (c for c in frame.columns if c.endswith("DTC")):
            for value in frame[column].drop_nulls():
                assert ISO_8601.match(value), (name, column, value)


def test_study_days_as_sdtm_defines_them(example_package: Path) -> None:
    dm = _csv(example_package, "DM")
    start = {
        u: datetime.fromisoformat(d).date() for u, d in dm.select("USUBJID", "RFSTDTC").iter_rows()
    }

    def sdtm_day(when: str, ref: date) -> int:
        days = (datetime.fromisoformat(when).date() - ref).days
        return days + 1 if days >= 0 else days

    for name, dtc, dy in (
        ("LB", "LBDTC", "LBDY"),
        ("CM", "CMSTDTC", "CMSTDY"),
        ("EX", "EXSTDTC", "EXSTDY"),
    ):
        frame = _csv(example_package, name)
        for usubjid, when, day in frame.select("USUBJID", dtc, dy).iter_rows():
            assert int(float(day)) == sdtm_day(when, start[usubjid.strip()]), (name, when)
            assert int(float(day)) != 0
    # by hand: P01's first infusion 2019-03-04 is day 1; its day-28 visit on 2019-04-03 is
    # day 31; metformin since 2015-01-01 is 1523 days earlier, day -1523 (no day 0)
    lb = _csv(example_package, "LB").filter(pl.col("USUBJID") == "small-study-P01")
    assert lb.filter(pl.col("LBDTC") == "2019-04-03T07:30")["LBDY"].unique().to_list() == ["31.0"]
    cm = _csv(example_package, "CM").filter(pl.col("USUBJID") == "small-study-P01")
    assert cm.filter(pl.col("CMTRT") == "metformin")["CMSTDY"].to_list() == ["-1523.0"]


def test_seq_unique_and_usubjid_consistent(example_package: Path) -> None:
    subjects = set(_csv(example_package, "DM")["USUBJID"])
    for name in ("EX", "LB", "VS", "AE", "CM"):
        frame = _csv(example_package, name)
        assert not frame.select("USUBJID", f"{name}SEQ").is_duplicated().any(), name
        assert set(frame["USUBJID"]) <= subjects, name
    assert set(_csv(example_package, "SV")["USUBJID"]) <= subjects


def test_controlled_terms_from_the_shipped_list(example_package: Path) -> None:
    ct = yaml.safe_load(
        (Path(__file__).parents[2] / "src/celltrial/exchange/sdtm/terminology.yaml").read_text()
    )
    assert ct["version"] and "CDISC" in ct["source"]
    lists = ct["codelists"]
    checks = {
        ("DM", "SEX"): "SEX",
        ("EX", "EXROUTE"): "ROUTE",
        ("LB", "LBSTRESU"): "UNIT",
        ("LB", "LBORRESU"): "UNIT",
        ("AE", "AEOUT"): "OUT",
        ("AE", "AESER"): "NY",
        ("TA", "EPOCH"): "EPOCH",
    }
    for (name, column), codelist in checks.items():
        values = set(_csv(example_package, name)[column].drop_nulls())
        assert values <= set(lists[codelist]["terms"]), (name, column, values)
    lbtestcd = set(_csv(example_package, "LB")["LBTESTCD"])
    assert lbtestcd <= set(ct["tests"]["LB"])


def test_xpt_v5_names_labels_and_values(example_package: Path) -> None:
    for name in DATASETS:
        frame, meta = pyreadstat.read_xport(str(example_package / f"{name.lower()}.xpt"))
        assert meta.table_name == name
        assert all(len(c) <= 8 for c in meta.column_names), name
        assert all(len(label) <= 40 for label in meta.column_names_to_labels.values()), name
        csv = _csv(example_package, name)
        assert list(frame.columns) == csv.columns
        assert len(frame) == csv.height
    lb, _ = pyreadstat.read_xport(str(example_package / "lb.xpt"))
    csv = pl.read_csv(example_package / "lb.csv")
    assert lb["LBSTRESN"].tolist() == pytest.approx(csv["LBSTRESN"].to_list())


def test_trial_design(example_package: Path) -> None:
    tv = _csv(example_package, "TV")
    # lian2022 visits at protocol days 0, 14, 21, 28, 84: SDTM planned days 1, 15, 22, 29, 85;
    # then the long-term follow-up (extension) at days 180, 365, 730, 1095: 181, 366, 731, 1096
    assert tv["VISITDY"].to_list() == [
        "1.0", "15.0", "22.0", "29.0", "85.0", "181.0", "366.0", "731.0", "1096.0"
    ]  # fmt: skip
    extension = tv["TVSTRL"].str.ends_with("; extension of the published schedule")
    assert extension.to_list() == [False] * 5 + [True] * 4
    ts = dict(_csv(example_package, "TS").select("TSPARMCD", "TSVAL").iter_rows())
    assert ts["AGEMIN"] == "P18Y" and ts["AGEMAX"] == "P70Y"  # Lian 2022: age 18-70
    assert ts["LENGTH"] == "P1095D" and ts["RANDOM"] == "N"  # to the month-36 follow-up
    ta = _csv(example_package, "TA")
    assert ta["EPOCH"].to_list() == ["SCREENING", "RUN-IN", "TREATMENT", "FOLLOW-UP"]


def test_spec_lists_every_variable(example_package: Path) -> None:
    spec = pl.read_csv(example_package / "spec.csv")
    for name in DATASETS:
        listed = spec.filter(pl.col("dataset") == name)["variable"].to_list()
        assert listed == _csv(example_package, name).columns
    lb = spec.filter((pl.col("dataset") == "LB") & (pl.col("variable") == "LBTESTCD")).row(
        0, named=True
    )
    assert lb["type"] == "Char" and lb["controlled_terms"] == "LBTESTCD" and lb["length"] <= 8


def test_simulated_trial_passes_the_checks(simulated_sets: dict[str, pl.DataFrame]) -> None:
    assert check(simulated_sets) == []
    dm, ex = simulated_sets["DM"], simulated_sets["EX"]
    assert dm.height == 16
    assert ex.group_by("USUBJID").len()["len"].to_list() == [3] * 16  # three infusions each


def test_checker_finds_a_broken_package(simulated_sets: dict[str, pl.DataFrame]) -> None:
    broken = dict(simulated_sets)
    broken["LB"] = broken["LB"].with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("03/04/2019"))
        .otherwise(pl.col("LBDTC"))
        .alias("LBDTC"),
        pl.lit(1.0).alias("LBSEQ"),
    )
    broken["DM"] = broken["DM"].with_columns(pl.lit("X").alias("SEX"))
    rules = {(p.dataset, p.variable, p.rule) for p in check(broken)}
    assert ("LB", "LBDTC", "not ISO 8601") in rules
    assert ("LB", "LBSEQ", "not unique within USUBJID") in rules
    assert ("DM", "SEX", "not in codelist SEX") in rules


def test_metadata_within_xpt_limits() -> None:
    for name, columns in variables().items():
        assert len(name) == 2
        for v in columns:
            assert len(v.name) <= 8 and len(v.label) <= 40, (name, v.name)
            if v.codelist:
                assert terminology().allowed(v.codelist), v.codelist


def test_broken_study_refused_and_nothing_written(tmp_path: Path) -> None:
    out = tmp_path / "package"
    broken = EXAMPLE.parent / "broken-study"
    result = runner.invoke(app, ["export", "sdtm", str(broken), "--out", str(out)])
    assert result.exit_code == 1
    assert not out.exists() and not list(tmp_path.iterdir())


def test_missing_country_is_a_problem(tmp_path: Path) -> None:
    study = read_study(EXAMPLE)
    sets = datasets(study, load_protocol("lian2022"), None)
    assert [(p.dataset, p.variable) for p in check(sets)] == [("DM", "COUNTRY")]
