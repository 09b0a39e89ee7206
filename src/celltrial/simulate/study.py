"""One simulated trial as a StudyData: the eight tables filled from the simulation arrays.

Columns are built from whole NumPy arrays (one frame per table, no loop per patient); the
only Python loops run over protocol items (visits, analytes, drugs, infusions).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from celltrial.clinical.analytes import ANALYTES
from celltrial.data import StudyData, StudyMeta
from celltrial.data.schema import TABLES
from celltrial.protocol.eligibility import value_within
from celltrial.protocol.model import AgeCriterion, MeasurementCriterion
from celltrial.simulate.measurement import observe
from celltrial.simulate.physiology import Array
from celltrial.simulate.prescriptions import prescribed_doses
from celltrial.simulate.virtual_trials import SimulatedTrials, enrolment_lead_days

# A released lot covers this many infusions [A] (one bag per infusion, lots of ~10 bags).
INFUSIONS_PER_LOT = 10
# Prescriptions were stable for at least 2 months before day 0 (Lian 2022 L140-141).
STABLE_BEFORE_DAYS = 60
# Hour of day: fasting samples 08:00, 2-h samples 10:00, infusions 10:00 [A].
FASTING_HOUR, POSTLOAD_HOUR, INFUSION_HOUR = 8, 10, 10
POSTLOAD = {"pg2h", "cp2h", "ins2h"}


def _frame(table: str, data: dict[str, object]) -> pl.DataFrame:
    """A frame with exactly the schema's columns and types (missing columns are null)."""
    schema = TABLES[table].polars_schema
    n = len(next(iter(data.values()))) if data else 0
    cols = {c: data.get(c, pl.Series([None] * n)) for c in schema}
    return pl.DataFrame(cols).cast(schema)


def _numbered(n: int) -> Array:
    """'001', '002', ... 'n' as one array operation (at least three digits)."""
    return np.char.zfill(np.arange(1, n + 1).astype(str), 3)


def _dates(base: dt.date, days: Array) -> pl.Series:
    return pl.Series(np.datetime64(base, "D") + np.asarray(days, dtype="timedelta64[D]"))


def build_study(sim: SimulatedTrials, trial: int = 0, seed: int = 0) -> StudyData:
    """The StudyData of simulated trial `trial` (every table validate() checks)."""
    rng = np.random.default_rng([seed, trial, 1])
    ctx = _Context(sim, trial, rng)
    meta = StudyMeta(
        study_id=f"sim-{sim.preset.id}-{seed}",
        protocol=sim.protocol.id,
        title=f"{sim.preset.title} (simulated, seed {seed})",
        simulated=True,
        simulator={"preset": sim.preset.id, "seed": seed},
    )
    lots, lot_of = ctx.lots()
    return StudyData(
        meta=meta,
        participants=ctx.participants(),
        screening=ctx.screening(),
        lots=lots,
        infusions=ctx.infusions(lot_of),
        visits=ctx.visits(),
        measurements=ctx.measurements(),
        medications=ctx.medications(),
        adverse_events=ctx.adverse_events(),
    )


class _Context:
    """Arrays of one trial and the calendar that turns study days into dates."""

    def __init__(self, sim: SimulatedTrials, trial: int, rng: np.random.Generator) -> None:
        self.sim, self.t, self.rng = sim, trial, rng
        p, proto = sim.preset, sim.protocol
        n = sim.shape[1]
        self.n = n
        self.site = np.array(p.sites)[np.arange(n) % len(p.sites)]  # round-robin over sites
        self.pid = np.char.add(np.char.add(self.site, "-"), _numbered(n))
        start = dt.date.fromisoformat(p.start_date)
        enrol_off = np.sort(rng.integers(0, p.enrolment_span_days + 1, n))
        self.enrol = np.datetime64(start, "D") + enrol_off.astype("timedelta64[D]")
        self.anchor = self.enrol + np.timedelta64(enrolment_lead_days(proto), "D")
        tr = sim.traj
        self.dropout = tr.dropout_day[trial]
        self.observed = sim.observed()[:, trial]
        self.vday = tr.visit_day[:, trial]
        self.values = {k: v[:, trial] for k, v in observe(sim, rng).items()}
        self.sex = np.where(sim.cohort.male[trial], "M", "F")

    def day_date(self, days: Array) -> Array:
        return self.anchor + np.asarray(days).astype("timedelta64[D]")

    def participants(self) -> pl.DataFrame:
        c, t = self.sim.cohort, self.t
        last = self.sim.design.last_day
        gone = self.dropout < last
        wdate = self.day_date(np.where(gone, np.floor(self.dropout), 0).astype(int))
        return _frame(
            "participants",
            {
                "participant_id": self.pid,
                "site_id": self.site,
                "sex": self.sex,
                "age": np.floor(c.age[t]),
                "enrollment_date": self.enrol,
                "diabetes_duration_years": np.round(c.duration[t], 1),
                "height_cm": np.round(c.height_cm[t], 1),
                "arm": np.full(self.n, "UC-MSC"),
                "status": np.where(gone, "withdrawn", "completed"),
                "withdrawal_date": pl.Series(np.where(gone, wdate, np.datetime64("NaT"))),
                "withdrawal_reason": pl.select(
                    pl.when(pl.Series(gone)).then(pl.lit("lost to follow-up"))
                ).to_series(),
            },
        )

    def screening(self) -> pl.DataFrame:
        sim, t = self.sim, self.t
        parts = []
        for crit in sim.protocol.eligibility:
            value = np.full(self.n, None, dtype=object)
            met = np.ones(self.n, dtype=bool)
            if isinstance(crit, AgeCriterion):
                value = np.floor(sim.cohort.age[t]).astype(int).astype(str)
            elif isinstance(crit, MeasurementCriterion) and crit.analyte in sim.screening:
                v = sim.screening[crit.analyte][t]
                met = value_within(crit, v)
                value = pl.Series(v).round(1).cast(pl.Utf8).to_numpy()
            parts.append(
                pl.DataFrame(
                    {
                        "participant_id": self.pid,
                        "criterion_id": np.full(self.n, crit.id),
                        "met": met,
                        "value": pl.Series(value, dtype=pl.Utf8),
                    }
                )
            )
        return _frame("screening", pl.concat(parts).to_dict()) if parts else _frame("screening", {})

    def _given(self) -> Array:
        """(n_infusions, N) bool: the infusion took place (before dropout)."""
        days = np.array(self.sim.design.infusion_days)[:, None]
        return days < self.dropout[None]

    def lots(self) -> tuple[pl.DataFrame, Array]:
        given = self._given()
        n_inf = int(given.sum())
        n_lots = max(1, -(-n_inf // INFUSIONS_PER_LOT))
        lot_of = np.zeros(given.shape, dtype=np.int64)
        lot_of[given] = np.arange(n_inf) // INFUSIONS_PER_LOT
        r = self.rng
        first = self.anchor.min()
        made = first - np.timedelta64(60, "D")
        ids = np.char.add("LOT", _numbered(n_lots))
        # QC values inside the ISCT release criteria (Dominici 2006): >= 95 % positive,
        # <= 2 % negative markers; viability >= 70 % (FDA 2008).
        pos = lambda: np.round(r.uniform(96.0, 99.9, n_lots), 1)  # noqa: E731
        neg = lambda: np.round(r.uniform(0.1, 1.5, n_lots), 2)  # noqa: E731
        frame = _frame(
            "lots",
            {
                "lot_id": ids,
                "donor_id": np.char.add("DONOR", _numbered(n_lots)),
                "source_tissue": np.full(n_lots, "umbilical cord Wharton's jelly"),
                "passage": r.integers(3, 6, n_lots),
                "cells_per_unit": np.full(n_lots, 1.0e8),
                "volume_ml": np.full(n_lots, 100.0),
                "viability_pct": np.round(r.uniform(88.0, 98.0, n_lots), 1),
                "plastic_adherent": np.ones(n_lots, dtype=bool),
                "cd73_pct": pos(),
                "cd90_pct": pos(),
                "cd105_pct": pos(),
                "cd45_pct": neg(),
                "cd34_pct": neg(),
                "cd14_cd11b_pct": neg(),
                "cd79a_cd19_pct": neg(),
                "hla_dr_pct": neg(),
                "sterility": np.full(n_lots, "pass"),
                "endotoxin_eu_ml": np.round(r.uniform(0.05, 0.3, n_lots), 2),
                "mycoplasma": np.full(n_lots, "negative"),
                "manufacture_date": np.full(n_lots, made),
                "expiry_date": np.full(n_lots, made + np.timedelta64(3 * 365 + 600, "D")),
                "storage": np.full(n_lots, "liquid nitrogen vapour, -196 C"),
                "release_status": np.full(n_lots, "released"),
            },
        )
        return frame, ids[lot_of]

    def infusions(self, lot_of: Array) -> pl.DataFrame:
        sim, t = self.sim, self.t
        given = self._given()
        n_inf = given.shape[0]
        j = np.broadcast_to(np.arange(n_inf)[:, None], given.shape)
        days = np.array(sim.design.infusion_days)[:, None] + 0 * j
        when = self.day_date(days).astype("datetime64[us]") + np.timedelta64(INFUSION_HOUR, "h")
        weight = np.broadcast_to(np.round(sim.cohort.weight[t], 1), given.shape)
        dose = sim.dose_cells[:, t]
        pid = np.broadcast_to(self.pid, given.shape)
        return _frame(
            "infusions",
            {
                "infusion_id": np.char.add(np.char.add(pid, "-INF"), (j + 1).astype(str))[given],
                "participant_id": pid[given],
                "lot_id": lot_of[given],
                "infusion_number": (j + 1)[given],
                "start_time": when[given],
                "dose_cells": dose[given],
                "weight_kg": weight[given],
                "dose_cells_per_kg": (dose / weight)[given],
                "route": np.full(int(given.sum()), sim.protocol.dosing.route),
            },
        )

    def visits(self) -> pl.DataFrame:
        d = self.sim.design
        obs = self.observed
        vid = np.broadcast_to(np.array(d.visit_ids)[:, None], obs.shape)
        target = np.broadcast_to(d.target[:, None], obs.shape)
        pid = np.broadcast_to(self.pid, obs.shape)
        inside = (self.vday >= d.lower[:, None]) & (self.vday <= d.upper[:, None])
        return _frame(
            "visits",
            {
                "participant_id": pid[obs],
                "visit_id": vid[obs],
                "target_day": target[obs],
                "actual_date": self.day_date(self.vday)[obs],
                "study_day": self.vday[obs],
                "in_window": inside[obs],
            },
        )

    def measurements(self) -> pl.DataFrame:
        sim = self.sim
        ids = sim.design.visit_ids
        sexed = {lab.analyte: lab.sex for lab in sim.preset.labs}
        parts = []
        for item in sim.preset.schedule:
            vis = ids if item.visits == "all" else item.visits
            for analyte in item.analytes:
                for vid in vis:
                    v = ids.index(vid)
                    keep = self.observed[v].copy()
                    if sexed.get(analyte):
                        keep &= self.sex == sexed[analyte]
                    hour = POSTLOAD_HOUR if analyte in POSTLOAD else FASTING_HOUR
                    parts.append(
                        self._rows(analyte, vid, self.vday[v], self.values[analyte][v], keep, hour)
                    )
        parts.append(self._screening_rows())
        return pl.concat([p for p in parts if p.height])

    def _rows(
        self, analyte: str, vid: str | None, day: Array, value: Array, keep: Array, hour: int
    ) -> pl.DataFrame:
        unit = ANALYTES[analyte].unit
        when = self.day_date(day).astype("datetime64[us]") + np.timedelta64(hour, "h")
        val = np.round(value, 2)[keep]
        n = int(keep.sum())
        return _frame(
            "measurements",
            {
                "participant_id": self.pid[keep],
                "visit_id": pl.Series(np.full(n, vid, dtype=object), dtype=pl.Utf8),
                "time": when[keep],
                "analyte": np.full(n, analyte),
                "value": val,
                "unit": np.full(n, unit),
                "value_as_entered": val.astype(str),
                "unit_as_entered": np.full(n, unit),
                "fasting": np.full(n, analyte not in POSTLOAD),
                "source": np.full(n, "simulated"),
            },
        )

    def _screening_rows(self) -> pl.DataFrame:
        """Screening values a week before enrolment (inside the criteria's 90-day look-back)."""
        day = np.full(self.n, -7) - (self.anchor - self.enrol).astype(int)
        keep = np.ones(self.n, dtype=bool)
        parts = [
            self._rows(a, None, day, v[self.t], keep, FASTING_HOUR)
            for a, v in self.sim.screening.items()
        ]
        return pl.concat(parts)

    def medications(self) -> pl.DataFrame:
        """Prescription periods: constant between visits, changed at the visit that sees a
        new dose (titration decisions are recorded at visits), with the doses of
        celltrial.simulate.prescriptions (those the calibration summary counts)."""
        obs_days = np.where(self.observed, self.vday, 10**6)
        parts = [
            self._periods(p.drug, p.atc_code, p.unit, p.dose, obs_days)
            for p in prescribed_doses(self.sim, self.t)
        ]
        return pl.concat([p for p in parts if p.height]) if parts else _frame("medications", {})

    def _periods(
        self, drug: str, atc: str, unit: str, dose: Array, obs_days: Array
    ) -> pl.DataFrame:
        V = dose.shape[0]
        base = self.sim.design.baseline
        start_day = np.where(np.arange(V)[:, None] == base, -STABLE_BEFORE_DAYS, obs_days)
        long = pl.DataFrame(
            {
                "participant_id": np.broadcast_to(self.pid, dose.shape).ravel(),
                "v": np.broadcast_to(np.arange(V)[:, None], dose.shape).ravel(),
                "day": start_day.ravel(),
                "dose": dose.ravel(),
                "seen": (obs_days < 10**6).ravel(),
                "anchor": np.broadcast_to(self.anchor, dose.shape).ravel(),
                "stop": np.minimum(self.dropout, self.sim.design.last_day)
                .astype(int)[None]
                .repeat(V, 0)
                .ravel(),
            }
        ).filter(pl.col("seen"))
        changed = pl.col("dose") != pl.col("dose").shift(1).over("participant_id", order_by="v")
        # end_date is the last day the drug was taken (inclusive, CDISC CMENDTC; schema docs):
        # the day before the next period starts, else the last study day before dropout.
        periods = (
            long.sort("participant_id", "v")
            .with_columns(changed.fill_null(True).alias("new"))
            .filter(pl.col("new"))
            .with_columns(
                (pl.col("day").shift(-1).over("participant_id", order_by="v") - 1).alias("end")
            )
            .filter(pl.col("dose") > 0)
            .with_columns(pl.col("end").fill_null(pl.col("stop")))
        )
        return _frame(
            "medications",
            {
                "participant_id": periods["participant_id"],
                "drug": pl.Series(np.full(periods.height, drug)),
                "atc_code": pl.Series(np.full(periods.height, atc)),
                "daily_dose": periods["dose"],
                "dose_unit": pl.Series(np.full(periods.height, unit)),
                "start_date": periods.select(pl.col("anchor") + pl.duration(days="day"))["anchor"],
                "end_date": periods.select(pl.col("anchor") + pl.duration(days="end"))["anchor"],
            },
        )

    def adverse_events(self) -> pl.DataFrame:
        return pl.concat([self._fevers(), self._hypos()])

    def _fevers(self) -> pl.DataFrame:
        sim, t = self.sim, self.t
        fever = sim.traj.fever[:, t] & self._given()
        j = np.broadcast_to(np.arange(fever.shape[0])[:, None], fever.shape)
        days = np.array(sim.design.infusion_days)[:, None] + 0 * j
        start = self.day_date(days).astype("datetime64[us]") + np.timedelta64(INFUSION_HOUR, "h")
        # Fever within 24 h of the infusion (Lian 2022 L202-203), lasting 6-30 h [A].
        onset = start + (self.rng.uniform(2, 23, fever.shape) * 60).astype("timedelta64[m]")
        end = onset + (self.rng.uniform(6, 30, fever.shape) * 60).astype("timedelta64[m]")
        pid = np.broadcast_to(self.pid, fever.shape)
        inf_id = np.char.add(np.char.add(pid, "-INF"), (j + 1).astype(str))
        return self._events(
            pid[fever],
            "Pyrexia",
            onset[fever],
            end[fever],
            "related",
            inf_id[fever],
            "FEV",
            (j + 1)[fever],
        )

    def _hypos(self) -> pl.DataFrame:
        hd = self.sim.traj.hypo_days[:, self.t]
        hit = (hd >= 0) & (hd < self.dropout[None])
        k = np.broadcast_to(np.arange(hd.shape[0])[:, None], hd.shape)
        # Nocturnal, asymptomatic (Lian 2022 L203): 02:00-05:00, 20-60 min [A].
        onset = self.day_date(np.maximum(hd, 0) - 1).astype("datetime64[us]")
        onset = onset + (self.rng.uniform(2, 5, hd.shape) * 60).astype("timedelta64[m]")
        end = onset + self.rng.uniform(20, 60, hd.shape).astype("timedelta64[m]")
        pid = np.broadcast_to(self.pid, hd.shape)
        none = np.full(int(hit.sum()), None, dtype=object)
        return self._events(
            pid[hit],
            "Hypoglycaemia",
            onset[hit],
            end[hit],
            "not related",
            none,
            "HYP",
            (k + 1)[hit],
        )

    @staticmethod
    def _events(pid, term, onset, end, related, inf_id, tag, number) -> pl.DataFrame:
        n = len(pid)
        return _frame(
            "adverse_events",
            {
                "participant_id": pid,
                "ae_id": np.char.add(np.char.add(pid.astype(str), f"-{tag}"), number.astype(str)),
                "term": np.full(n, term),
                "onset_time": onset,
                "end_time": end,
                "grade": np.ones(n, dtype=np.int64),  # CTCAE v5.0 grade 1: mild, transient
                "serious": np.zeros(n, dtype=bool),
                "related": np.full(n, related),
                "infusion_id": pl.Series(inf_id, dtype=pl.Utf8),
                "outcome": np.full(n, "recovered"),
            },
        )
