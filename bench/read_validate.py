"""Benchmark: read_study + validate on a 100,000-participant study (7.5 million measurements).

Target (issue 3 §4): under 10 s and under 4 GiB peak memory on a 2-core machine.
The study is generated once (vectorized NumPy/Polars) into bench/out/ as Parquet and CSV;
each timing runs in a fresh subprocess so ru_maxrss is the peak of read + validate alone.
Baseline: pandas row-wise validation (iterrows, one catalogue lookup per row) on a sample,
extrapolated linearly to all rows.

    uv run --frozen python bench/read_validate.py [--participants 100000] [--no-csv]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from celltrial.clinical.analytes import ANALYTES, to_canonical_factors
from celltrial.data import StudyData, StudyMeta, read_study, validate, write_study

OUT = Path(__file__).parent / "out"
TARGET_SECONDS = 10.0
TARGET_GIB = 4.0
VISIT_DAYS = np.array([0, 14, 21, 28, 84])  # Lian 2022 visit schedule
PANEL = [
    "fpg",
    "pg2h",
    "hba1c",
    "fins",
    "fcp",
    "cp2h",
    "alt",
    "ast",
    "ggt",
    "creatinine",
    "hscrp",
    "leukocytes",
    "lymphocytes",
    "weight",
    "sbp",
]  # 15 analytes x 5 visits = 75
# value in an alternative unit for a third of the rows, to exercise the conversion join
ALT_UNIT = {
    "fpg": "mg/dL",
    "pg2h": "mg/dL",
    "hba1c": "mmol/mol",
    "fins": "u[IU]/mL",
    "fcp": "ng/mL",
    "cp2h": "ng/mL",
    "creatinine": "mg/dL",
    "leukocytes": "10*3/uL",
}


def generate(n: int, seed: int = 20221010) -> StudyData:
    """A valid-looking study: n participants, 3 infusions, 5 visits, 75 values each."""
    rng = np.random.default_rng(seed)
    pid = pl.Series("participant_id", [f"P{i:06d}" for i in range(n)])
    enrol = np.datetime64("2020-01-01") + rng.integers(0, 1000, n).astype("timedelta64[D]")
    participants = pl.DataFrame(
        {
            "participant_id": pid,
            "site_id": pl.Series(rng.choice(["S01", "S02", "S03", "S04"], n)),
            "sex": pl.Series(rng.choice(["M", "F"], n)),
            "birth_date": enrol - (rng.integers(18, 70, n) * 365).astype("timedelta64[D]"),
            "enrollment_date": enrol,
            "height_cm": rng.normal(168, 8, n).round(1),
            "status": pl.Series(["completed"] * n),
        }
    )
    lots = pl.DataFrame(
        {
            "lot_id": [f"L{i:03d}" for i in range(50)],
            "viability_pct": rng.uniform(85, 99, 50),
            "release_status": "released",
        }
    )
    rep3 = np.repeat(np.arange(n), 3)
    weight = rng.normal(72, 12, n).clip(40, 150).round(1)
    infusions = pl.DataFrame(
        {
            "infusion_id": [f"I{i:07d}" for i in range(3 * n)],
            "participant_id": pid.gather(rep3),
            "lot_id": pl.Series(np.array(lots["lot_id"].to_list())[rng.integers(0, 50, 3 * n)]),
            "infusion_number": np.tile([1, 2, 3], n),
            "start_time": (enrol[rep3] + np.tile([0, 7, 14], n).astype("timedelta64[D]")).astype(
                "datetime64[us]"
            )
            + np.timedelta64(9, "h"),
            "dose_cells": weight[rep3] * 1e6,
            "weight_kg": weight[rep3],
            "dose_cells_per_kg": np.full(3 * n, 1e6),
        }
    )
    rep5 = np.repeat(np.arange(n), 5)
    visit_day = np.tile(VISIT_DAYS, n)
    visits = pl.DataFrame(
        {
            "participant_id": pid.gather(rep5),
            "visit_id": pl.Series([f"D{d}" for d in VISIT_DAYS]).gather(np.tile(np.arange(5), n)),
            "target_day": visit_day,
            "actual_date": enrol[rep5] + visit_day.astype("timedelta64[D]"),
            "study_day": visit_day,
            "in_window": True,
        }
    )
    return StudyData(
        StudyMeta("bench-100k"),
        participants=participants,
        lots=lots,
        infusions=infusions,
        visits=visits,
        measurements=_measurements(rng, visits, len(PANEL)),
    )


def _measurements(rng: np.random.Generator, visits: pl.DataFrame, k: int) -> pl.DataFrame:
    m = visits.height * k
    which = np.tile(np.arange(k), visits.height)
    lo = np.array([ANALYTES[a].plausible[0] for a in PANEL])
    hi = np.array([min(ANALYTES[a].plausible[1], 10 * max(lo[i], 1)) for i, a in enumerate(PANEL)])
    canonical = (lo[which] + rng.uniform(0.1, 0.9, m) * (hi - lo)[which]).round(2)
    alt = rng.random(m) < 1 / 3
    f = np.array([to_canonical_factors(a, ALT_UNIT.get(a, ANALYTES[a].unit)).factor for a in PANEL])
    o = np.array([to_canonical_factors(a, ALT_UNIT.get(a, ANALYTES[a].unit)).offset for a in PANEL])
    entered = np.where(alt, ((canonical - o[which]) / f[which]).round(3), canonical)
    unit_alt = np.array([ALT_UNIT.get(a, ANALYTES[a].unit) for a in PANEL])
    unit_can = np.array([ANALYTES[a].unit for a in PANEL])
    idx = np.repeat(np.arange(visits.height), k)
    base = visits.select("participant_id", "visit_id", "actual_date").gather(idx)
    return pl.DataFrame(
        {
            "participant_id": base["participant_id"],
            "visit_id": base["visit_id"],
            "time": (
                base["actual_date"].cast(pl.Datetime("us"))
                + pl.Series((420 + which).astype("timedelta64[m]").astype("timedelta64[us]"))
            ),
            "analyte": pl.Series(np.array(PANEL)[which]),
            "value": pl.Series(canonical),
            "unit": pl.Series(unit_can[which]),
            "value_as_entered": pl.Series(entered).cast(pl.Utf8),
            "unit_as_entered": pl.Series(np.where(alt, unit_alt[which], unit_can[which])),
            "source": "simulated",
        }
    )


def measure(folder: Path) -> dict[str, float]:
    """In this process: time read_study and validate; peak RSS of the process."""
    t0 = time.perf_counter()
    study = read_study(folder, check="skip")  # validated below, timed on its own
    t1 = time.perf_counter()
    findings = validate(study)
    t2 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "read_s": t1 - t0,
        "validate_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_gib": peak_kib / 2**20,
        "measurements": study.measurements.height,
        "errors": findings.errors,
        "warnings": findings.warnings,
    }


def pandas_baseline(folder: Path, sample: int = 50_000) -> float:
    """Seconds per measurement row for a plain pandas, row-by-row validation."""
    import pandas as pd

    df = pd.read_parquet(folder / "measurements.parquet").head(sample)
    known = set(pd.read_parquet(folder / "participants.parquet")["participant_id"])
    t0 = time.perf_counter()
    problems = []
    for i, row in df.iterrows():  # the naive way this benchmark is measured against
        if row["participant_id"] not in known:
            problems.append((i, "participant"))
        conv = to_canonical_factors(row["analyte"], row["unit_as_entered"])
        value = float(row["value_as_entered"]) * conv.factor + conv.offset
        lo, hi = ANALYTES[row["analyte"]].possible
        if not lo <= value <= hi:
            problems.append((i, "range"))
    return (time.perf_counter() - t0) / len(df)


def _child(folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=100_000)
    ap.add_argument("--no-csv", action="store_true")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    formats = ["parquet"] if args.no_csv else ["parquet", "csv"]
    folders = {f: OUT / f"study-{args.participants}-{f}" for f in formats}
    if not all((d / "study.yaml").exists() for d in folders.values()):
        t0 = time.perf_counter()
        study = generate(args.participants)
        print(
            f"generated {study.measurements.height:,} measurements "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        for fmt, folder in folders.items():
            write_study(study, folder, format=fmt)
        del study
    per_row = pandas_baseline(folders["parquet"])
    for fmt, folder in folders.items():
        # a shared 2-core machine: the 1-minute load says how much the figure can be trusted
        print(f"{fmt:8s} load average before: {os.getloadavg()[0]:.2f}")
        r = _child(folder)
        baseline = per_row * r["measurements"]
        ok = r["total_s"] < TARGET_SECONDS and r["peak_gib"] < TARGET_GIB
        print(
            f"{fmt:8s} {r['measurements']:,} measurements: read {r['read_s']:.2f} s, "
            f"validate {r['validate_s']:.2f} s, total {r['total_s']:.2f} s, "
            f"peak {r['peak_gib']:.2f} GiB, {r['errors']} errors, {r['warnings']} warnings "
            f"[target < {TARGET_SECONDS:.0f} s, < {TARGET_GIB:.0f} GiB: "
            f"{'met' if ok else 'MISSED'}]"
        )
        print(
            f"{'':8s} pandas row-wise baseline (extrapolated from a 50,000-row sample): "
            f"{baseline:.0f} s; ratio {baseline / r['total_s']:.0f}x"
        )


if __name__ == "__main__":
    main()
