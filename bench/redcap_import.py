"""Benchmark: import a longitudinal REDCap record export of 1,000,000 rows (200,000 records x
5 visit events: demographics at baseline, a wide lab form with three analytes, a unit field,
a data access group and missing-data codes) into a validated StudyData.

Target (issue 13): under 5 s. CellTrial's import (read_csv_project + import_redcap, which
includes validate()) is timed against a row-by-row csv.DictReader baseline doing the same
mapping (codes, dates, missing codes, wide labs to long with unit conversion) in plain
Python; the baseline runs on the first --baseline-rows rows and is extrapolated linearly.

    uv run --frozen python bench/redcap_import.py [--records 200000] [--baseline-rows 200000]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import time
from pathlib import Path

import numpy as np
import polars as pl

from celltrial.clinical.analytes import to_canonical_factors
from celltrial.data import validate
from celltrial.data.redcap import import_redcap, read_csv_project
from celltrial.data.redcap.mapping import parse_mapping
from celltrial.data.redcap.missing_codes import REDCAP_MISSING_CODES

OUT = Path(__file__).parent / "out" / "redcap"
TARGET_SECONDS = 5.0
EVENTS = ["baseline_arm_1", "day_14_arm_1", "day_21_arm_1", "day_28_arm_1", "day_84_arm_1"]
VISITS = ["d0", "d14", "d21", "d28", "d84"]
DICTIONARY = [
    # field, form, type, label, choices, validation
    ("record_id", "demographics", "text", "Study ID", "", ""),
    ("dob", "demographics", "text", "Date of birth", "", "date_dmy"),
    ("sex", "demographics", "radio", "Sex", "1, Male | 2, Female", ""),
    ("enrol_date", "demographics", "text", "Enrolment", "", "date_dmy"),
    ("lab_date", "labs", "text", "Sample date", "", "date_dmy"),
    ("hba1c", "labs", "text", "HbA1c (mmol/mol)", "", "number"),
    ("fpg", "labs", "text", "Fasting glucose (mg/dL)", "", "number"),
    ("fcp", "labs", "text", "C-peptide", "", "number"),
    ("fcp_unit", "labs", "dropdown", "C-peptide unit", "1, ng/mL | 2, pmol/L", ""),
]
MAPPING = """\
celltrial_mapping: 1
study_id: bench
record_id: record_id
events: {baseline_arm_1: d0, day_14_arm_1: d14, day_21_arm_1: d21, day_28_arm_1: d28,
         day_84_arm_1: d84}
tables:
  participants:
    form: demographics
    columns:
      participant_id: "@record"
      site_id: "@dag"
      sex: {field: sex, codes: {"1": M, "2": F}}
      birth_date: dob
      enrollment_date: enrol_date
  visits:
    form: labs
    columns: {participant_id: "@record", visit_id: "@event", actual_date: lab_date}
analytes:
  - {field: hba1c, analyte: hba1c, unit: mmol/mol, time_field: lab_date}
  - {field: fpg, analyte: fpg, unit: mg/dL, time_field: lab_date, fasting: true}
  - {field: fcp, analyte: fcp, unit_field: fcp_unit, time_field: lab_date, fasting: true}
"""


def generate(n: int, folder: Path, seed: int = 13) -> tuple[Path, Path]:
    """The dictionary and a raw record export of n records x 5 events (whole arrays)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    headers = ["Variable / Field Name", "Form Name", "Field Type", "Field Label"]
    headers += ["Choices, Calculations, OR Slider Labels"]
    headers += ["Text Validation Type OR Show Slider Number"]
    pl.DataFrame(DICTIONARY, schema=headers, orient="row").write_csv(folder / "dictionary.csv")
    rows = n * len(EVENTS)
    record = np.repeat(np.arange(1, n + 1), len(EVENTS))
    event = np.tile(np.arange(len(EVENTS)), n)
    baseline = event == 0
    enrol = np.datetime64("2019-01-01") + rng.integers(0, 900, n).astype("timedelta64[D]")
    day = enrol[record - 1] + np.array([0, 14, 21, 28, 84])[event].astype("timedelta64[D]")
    born = enrol - (rng.integers(18, 70, n) * 365).astype("timedelta64[D]")

    def on_baseline(values: pl.Series) -> pl.Series:
        return pl.select(pl.when(pl.Series(baseline)).then(values)).to_series()

    fpg = pl.Series((rng.normal(8.5, 1.5, rows).clip(3, 25) * 18.016).round(0)).cast(pl.Utf8)
    fpg = pl.select(pl.when(pl.Series(rng.random(rows) < 0.01)).then(pl.lit("UNK")).otherwise(fpg))
    frame = pl.DataFrame(
        {
            "record_id": pl.Series(record).cast(pl.Utf8),
            "redcap_event_name": pl.Series(EVENTS).gather(event),
            "redcap_repeat_instrument": pl.Series([None] * rows, dtype=pl.Utf8),
            "redcap_repeat_instance": pl.Series([None] * rows, dtype=pl.Utf8),
            "redcap_data_access_group": pl.Series(["site_a", "site_b", "site_c"]).gather(
                rng.integers(0, 3, rows)
            ),
            "dob": on_baseline(pl.Series(born[record - 1]).dt.to_string("%Y-%m-%d")),
            "sex": on_baseline(pl.Series(rng.integers(1, 3, rows)).cast(pl.Utf8)),
            "enrol_date": on_baseline(pl.Series(enrol[record - 1]).dt.to_string("%Y-%m-%d")),
            "demographics_complete": on_baseline(pl.Series(["2"] * rows)),
            "lab_date": pl.Series(day).dt.to_string("%Y-%m-%d"),
            "hba1c": pl.Series(rng.normal(64, 10, rows).clip(30, 140).round(0)).cast(pl.Utf8),
            "fpg": fpg.to_series(),
            "fcp": pl.Series(rng.normal(1.5, 0.4, rows).clip(0.2, 5).round(2)).cast(pl.Utf8),
            "fcp_unit": pl.Series(["1"] * rows),
            "labs_complete": pl.Series(["2"] * rows),
        }
    )
    frame.with_columns(pl.col(c).cast(pl.Utf8) for c in frame.columns).write_csv(
        folder / "records.csv"
    )
    return folder / "dictionary.csv", folder / "records.csv"


def celltrial_import(dictionary: Path, records: Path) -> tuple[float, float, float, int, int]:
    """(wall s, CPU s, CPU s of validate() alone, measurements, errors): CPU time is printed
    beside wall time because the machine may be shared; on 2 idle cores wall time is at most
    the CPU time. validate() is timed again on its own, for a like-for-like ratio (the
    baseline maps but does not validate)."""
    t0, c0 = time.perf_counter(), time.process_time()
    project = read_csv_project(dictionary, records)
    imported = import_redcap(project, parse_mapping(MAPPING, "bench-mapping.yaml"))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    fresh = dataclasses.replace(imported.study)  # validate() memoizes on the study it saw
    c1 = time.process_time()
    validate(fresh)
    checks = time.process_time() - c1
    return wall, cpu, checks, imported.study.measurements.height, imported.findings.errors


def _iso(text: str) -> str | None:
    """A raw REDCap date (Y-M-D) or the field's D-M-Y display format, as an ISO date."""
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def baseline(records: Path, limit: int) -> tuple[float, float, int, int]:
    """The same mapping row by row: csv.DictReader, a dict per table row."""
    visits = dict(zip(EVENTS, VISITS, strict=True))
    units = {"1": "ng/mL", "2": "pmol/L"}
    factors: dict[tuple[str, str], tuple[float, float]] = {}
    missing = set(REDCAP_MISSING_CODES)
    participants, visit_rows, measurements = [], [], []
    read = 0
    t0, c0 = time.perf_counter(), time.process_time()
    with records.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if read == limit:
                break
            read += 1
            row = {k: (None if v in missing or v == "" else v) for k, v in row.items()}
            day = _iso(row["lab_date"]) if row["lab_date"] else None
            if row["demographics_complete"] == "2":
                participants.append(
                    {
                        "participant_id": row["record_id"],
                        "site_id": row["redcap_data_access_group"],
                        "sex": {"1": "M", "2": "F"}.get(row["sex"], row["sex"]),
                        "birth_date": _iso(row["dob"]) if row["dob"] else None,
                        "enrollment_date": _iso(row["enrol_date"]) if row["enrol_date"] else None,
                    }
                )
            visit = visits.get(row["redcap_event_name"])
            visit_rows.append({"participant_id": row["record_id"], "visit_id": visit, "day": day})
            for field, analyte, unit in (
                ("hba1c", "hba1c", "mmol/mol"),
                ("fpg", "fpg", "mg/dL"),
                ("fcp", "fcp", units.get(row["fcp_unit"] or "", "")),
            ):
                if row[field] is None:
                    continue
                key = (analyte, unit)
                if key not in factors:
                    conv = to_canonical_factors(analyte, unit)
                    factors[key] = (conv.factor, conv.offset)
                factor, offset = factors[key]
                value = float(row[field]) * factor + offset
                measurements.append(
                    {
                        "participant_id": row["record_id"],
                        "visit_id": visit,
                        "time": day,
                        "analyte": analyte,
                        "value": value,
                        "value_as_entered": row[field],
                        "unit_as_entered": unit,
                    }
                )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, len(measurements), read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--baseline-rows", type=int, default=200_000)
    args = parser.parse_args()
    dictionary, records = generate(args.records, OUT)
    rows = args.records * len(EVENTS)
    size = records.stat().st_size / 2**20
    print(f"records.csv: {rows:,} rows, {size:,.0f} MiB ({args.records:,} records x 5 events)")
    wall, cpu, checks, n_measurements, errors = celltrial_import(dictionary, records)
    print(
        f"celltrial import: {wall:.2f} s wall, {cpu:.2f} s CPU for {rows:,} rows -> "
        f"{n_measurements:,} measurements, {errors} errors (target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if wall < TARGET_SECONDS else 'NOT met'} on wall time); "
        f"of which validate() {checks:.2f} s CPU"
    )
    limit = min(args.baseline_rows, rows)
    base_wall, base_cpu, base_measurements, read = baseline(records, limit)
    scale = rows / read
    print(
        f"baseline csv.DictReader row by row: {base_wall:.2f} s wall, {base_cpu:.2f} s CPU for "
        f"{read:,} rows ({base_measurements:,} measurements) -> {base_wall * scale:.1f} s wall, "
        f"{base_cpu * scale:.1f} s CPU estimated for {rows:,} rows"
    )
    print(
        f"ratio baseline / celltrial: {base_wall * scale / wall:.1f}x wall, "
        f"{base_cpu * scale / cpu:.1f}x CPU; the mapping alone (CPU without validate()): "
        f"{base_cpu * scale / (cpu - checks):.1f}x"
    )


if __name__ == "__main__":
    main()
