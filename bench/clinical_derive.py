"""Benchmark: celltrial.clinical.derivations.derive_study on a large study.

Measures the vectorized derivations (BMI, HOMA1, HOMA-CP, eGFR, IFCC HbA1c, eAG) over
N participants x 5 visits (Lian 2022 schedule) x 6 analytes, against a baseline written for
the purpose: pandas, one Python step per participant-visit (dict pairing + math formulas),
run on a sample and extrapolated linearly.

    UV_PYTHON_DOWNLOADS=never uv run --frozen python bench/clinical_derive.py [--participants N]
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import date, datetime

import numpy as np
import polars as pl

from celltrial.clinical.derivations import derive_study
from celltrial.data.schema import TABLES
from celltrial.data.study import StudyData, StudyMeta

VISIT_DAYS = np.array([0, 14, 21, 28, 84])  # Lian 2022 visit schedule
# analyte, canonical unit, mean, sd (rough T2D values; only the amount of work matters)
PANEL = [
    ("fpg", "mmol/L", 8.5, 2.0),
    ("fcp", "pmol/L", 600.0, 200.0),
    ("fins", "pmol/L", 70.0, 25.0),
    ("creatinine", "umol/L", 70.0, 15.0),
    ("weight", "kg", 70.0, 10.0),
    ("hba1c", "%", 8.0, 1.0),
]


def make_study(n: int, seed: int = 1) -> StudyData:
    rng = np.random.default_rng(seed)
    pid = np.char.add("P", np.arange(n).astype(str))
    participants = pl.DataFrame(
        {
            "participant_id": pid,
            "site_id": "S1",
            "sex": rng.choice(["M", "F"], n),
            "age": rng.uniform(18, 70, n),
            "enrollment_date": [date(2024, 1, 1)] * n,
            "height_cm": rng.normal(165, 8, n),
        }
    ).with_columns(pl.col("enrollment_date").cast(pl.Date))
    participants = participants.select(
        [
            pl.col(c).cast(t) if c in participants.columns else pl.lit(None, t).alias(c)
            for c, t in TABLES["participants"].polars_schema.items()
        ]
    )
    k, v = len(PANEL), len(VISIT_DAYS)
    rows = n * v * k
    p_idx = np.repeat(np.arange(n), v * k)
    v_idx = np.tile(np.repeat(np.arange(v), k), n)
    a_idx = np.tile(np.arange(k), n * v)
    mean = np.array([p[2] for p in PANEL])[a_idx]
    sd = np.array([p[3] for p in PANEL])[a_idx]
    t0 = datetime(2024, 1, 1, 8)
    measurements = pl.DataFrame(
        {
            "participant_id": pid[p_idx],
            "visit_id": np.char.add("d", VISIT_DAYS.astype(str))[v_idx],
            "time": (np.datetime64(t0, "us") + VISIT_DAYS[v_idx].astype("timedelta64[D]")).astype(
                "datetime64[us]"
            ),
            "analyte": np.array([p[0] for p in PANEL])[a_idx],
            "value": np.abs(rng.normal(mean, sd)),
            "unit": np.array([p[1] for p in PANEL])[a_idx],
            "fasting": np.ones(rows, bool),
            "source": "lab",
        }
    )
    measurements = measurements.select(
        [
            pl.col(c).cast(t) if c in measurements.columns else pl.lit(None, t).alias(c)
            for c, t in TABLES["measurements"].polars_schema.items()
        ]
    )
    return StudyData(StudyMeta("bench"), participants=participants, measurements=measurements)


def baseline_per_row(study: StudyData, n_participants: int) -> float:
    """pandas, one Python step per participant-visit: seconds for the sample."""
    m = study.measurements.filter(
        pl.col("participant_id").is_in(
            study.participants["participant_id"][:n_participants].to_list()
        )
    ).to_pandas()
    people = study.participants.to_pandas().set_index("participant_id")
    start = time.perf_counter()
    out = []
    for (pid, visit), g in m.groupby(["participant_id", "visit_id"]):
        v = dict(zip(g["analyte"], g["value"], strict=True))
        person = people.loc[pid]
        fpg, ins = v["fpg"], v["fins"] / 6.0
        out += [1.5 + v["fcp"] * fpg / 2800, 0.27 * v["fcp"] / (fpg - 3.5) if fpg > 3.5 else None]
        out += [fpg * ins / 22.5, 20 * ins / (fpg - 3.5) if fpg > 3.5 else None]
        out.append(v["weight"] / (person["height_cm"] / 100) ** 2)
        out += [(v["hba1c"] - 2.152) / 0.09148, (28.7 * v["hba1c"] - 46.7) / 18.016]
        f = person["sex"] == "F"
        k, a = (0.7, -0.241) if f else (0.9, -0.302)
        r = v["creatinine"] / 88.4 / k
        out.append(142 * min(r, 1) ** a * max(r, 1) ** -1.2 * 0.9938 ** person["age"])
        _ = visit, math
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=100_000)
    ap.add_argument("--baseline-sample", type=int, default=2_000)
    args = ap.parse_args()
    study = make_study(args.participants)
    n_rows = study.measurements.height
    start = time.perf_counter()
    out, skipped = derive_study(study)
    ours = time.perf_counter() - start
    added = out.measurements.height - n_rows
    sample = min(args.baseline_sample, args.participants)
    base = baseline_per_row(study, sample) * args.participants / sample
    print(f"participants {args.participants:,}, measurement rows in {n_rows:,}")
    print(f"derive_study: {ours:.2f} s, {added:,} derived rows, {skipped.height:,} skipped")
    print(f"baseline pandas per participant-visit (sample {sample:,}, extrapolated): {base:.2f} s")
    print(f"speed-up: {base / ours:.1f}x")


if __name__ == "__main__":
    main()
