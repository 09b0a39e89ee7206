"""The protocol model: what a centre writes in a protocol YAML file, validated by pydantic.

Every section is a frozen model that forbids unknown keys, so a typo in a YAML file is an
error with its line (see loader.py), never a silently ignored setting.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from celltrial.clinical.analytes import ANALYTES
from celltrial.clinical.units import convert


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_analyte(value: str) -> str:
    if value not in ANALYTES:
        raise ValueError(f"unknown analyte {value!r}; known: {', '.join(sorted(ANALYTES))}")
    return value


# ---------------------------------------------------------------- visits


class Visit(_Strict):
    """One scheduled visit: target day after the anchor and its window in days.

    `extension: true` marks a visit the centre added to the paper's schedule (Lian 2022's
    long-term safety follow-up): the registry schedules it and validate accepts data at it,
    but the simulator does not generate it and the analysis of the paper's outcomes leaves
    it out (Protocol.trial_visits). Its `source` must say where it comes from."""

    id: str = Field(min_length=1)
    label: str = ""
    target_day: int
    window_before: int = Field(ge=0)
    window_after: int = Field(ge=0)
    baseline: bool = False
    extension: bool = False
    source: str = ""

    @model_validator(mode="after")
    def _extension_sourced(self) -> Visit:
        if self.extension and self.baseline:
            raise ValueError("an extension visit cannot be the baseline (the paper's own)")
        if self.extension and not self.source.strip():
            raise ValueError("an extension visit needs a source saying why it was added")
        return self

    @property
    def lower_day(self) -> int:
        return self.target_day - self.window_before

    @property
    def upper_day(self) -> int:
        return self.target_day + self.window_after


# ---------------------------------------------------------------- dosing


class Dosing(_Strict):
    """Cell dose per infusion and the infusion schedule relative to the anchor."""

    mode: Literal["weight_based", "flat"]
    cells_per_kg: float | None = Field(default=None, gt=0)
    flat_min_cells: float | None = Field(default=None, gt=0)
    flat_max_cells: float | None = Field(default=None, gt=0)
    flat_target_cells: float | None = Field(default=None, gt=0)
    tolerance_pct: float = Field(default=10.0, ge=0, le=100)
    n_infusions: int = Field(ge=1)
    interval_days: int | None = Field(default=None, ge=1)
    infusion_days: list[int]
    route: Literal["IV", "intrapancreatic", "intra-arterial", "subcutaneous"] = "IV"
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Dosing:
        if self.mode == "weight_based" and self.cells_per_kg is None:
            raise ValueError("mode weight_based needs cells_per_kg")
        if self.mode == "flat":
            if self.flat_min_cells is None or self.flat_max_cells is None:
                raise ValueError("mode flat needs flat_min_cells and flat_max_cells")
            if self.flat_min_cells > self.flat_max_cells:
                raise ValueError("flat_min_cells is larger than flat_max_cells")
            target = self.flat_target_cells
            if target is not None and not self.flat_min_cells <= target <= self.flat_max_cells:
                raise ValueError("flat_target_cells lies outside flat_min_cells..flat_max_cells")
        if len(self.infusion_days) != self.n_infusions:
            raise ValueError(
                f"infusion_days lists {len(self.infusion_days)} days for "
                f"n_infusions {self.n_infusions}"
            )
        if sorted(self.infusion_days) != self.infusion_days:
            raise ValueError("infusion_days must be in increasing order")
        return self


# ---------------------------------------------------------------- eligibility


class _Criterion(_Strict):
    """Common fields. `kind` says where the paper lists it; `text` is phrased as the
    requirement a participant must satisfy, so status "met" always means "passes"."""

    id: str = Field(min_length=1)
    kind: Literal["inclusion", "exclusion"]
    text: str
    source: str = ""


class ChecklistCriterion(_Criterion):
    """Answered by the investigator in the screening table (criterion_id, met)."""

    check: Literal["checklist"]


class AgeCriterion(_Criterion):
    """Age in completed years, inclusive bounds, on the enrolment date or on the date of the
    first infusion (`at`)."""

    check: Literal["age"]
    min_years: float | None = None
    max_years: float | None = None
    at: Literal["enrollment", "first_infusion"] = "enrollment"


class MeasurementCriterion(_Criterion):
    """The latest value of an analyte measured from `from_day` to `to_day` of enrolment
    (day 0 = enrolment date) must lie within the bounds; `min`/`max` are inclusive,
    `below`/`above` strict (value < below, value > above)."""

    check: Literal["measurement"]
    analyte: str
    unit: str
    min: float | None = None
    max: float | None = None
    below: float | None = None
    above: float | None = None
    from_day: int = -90
    to_day: int = 0

    _analyte = field_validator("analyte")(_known_analyte)

    @model_validator(mode="after")
    def _bounds(self) -> MeasurementCriterion:
        if all(b is None for b in (self.min, self.max, self.below, self.above)):
            raise ValueError("a measurement criterion needs min, max, below or above")
        if self.unit != ANALYTES[self.analyte].unit:
            raise ValueError(
                f"unit {self.unit!r} is not the canonical unit of {self.analyte} "
                f"({ANALYTES[self.analyte].unit}); StudyData stores canonical units"
            )
        if self.from_day > self.to_day:
            raise ValueError("from_day is after to_day")
        return self


class MedicationCriterion(_Criterion):
    """No prescription whose ATC code starts with one of `atc_prefixes` overlapping the
    `within_days` days before enrolment (up to and including the enrolment date)."""

    check: Literal["medication"]
    atc_prefixes: list[str] = Field(min_length=1)
    within_days: int = Field(ge=0)


Criterion = Annotated[
    ChecklistCriterion | AgeCriterion | MeasurementCriterion | MedicationCriterion,
    Field(discriminator="check"),
]


# ---------------------------------------------------------------- lot release


class LotRelease(_Strict):
    """Release specification of a cell-product lot (ISCT minimal criteria plus safety)."""

    plastic_adherent: bool = True
    positive_markers: list[str]
    positive_min_pct: float = Field(ge=0, le=100)
    negative_markers: list[str]
    negative_max_pct: float = Field(ge=0, le=100)
    viability_min_pct: float | None = Field(default=None, ge=0, le=100)
    sterility: Literal["pass"] = "pass"
    mycoplasma: Literal["negative"] = "negative"
    endotoxin_max_eu_ml: float | None = Field(default=None, gt=0)
    require_status: Literal["released"] = "released"
    source: str = ""

    @field_validator("positive_min_pct")
    @classmethod
    def _a_percentage(cls, value: float) -> float:
        # "positive" means most cells express the marker (ISCT: >= 95 %, Dominici 2006); a
        # value below 50 is almost surely a fraction (0.95) written for a percentage
        if value < 50:
            raise ValueError(
                f"positive_min_pct {value:g} is below 50: give a percentage (95 for 95 %, "
                "ISCT Dominici 2006), not a fraction"
            )
        return value

    @model_validator(mode="after")
    def _positive_above_negative(self) -> LotRelease:
        if self.positive_min_pct <= self.negative_max_pct:
            raise ValueError(
                f"positive_min_pct {self.positive_min_pct:g} must be above negative_max_pct "
                f"{self.negative_max_pct:g} (ISCT: >= 95 % positive, <= 2 % negative)"
            )
        return self

    @field_validator("positive_markers", "negative_markers")
    @classmethod
    def _marker_columns(cls, value: list[str]) -> list[str]:
        known = {"cd73", "cd90", "cd105", "cd45", "cd34", "cd14_cd11b", "cd79a_cd19", "hla_dr"}
        unknown = [m for m in value if m not in known]
        if unknown:
            raise ValueError(f"unknown marker(s) {unknown}; known: {sorted(known)}")
        return value


# ---------------------------------------------------------------- titration


class Deescalation(_Strict):
    """The protocol's de-escalation policy: reduce the hypoglycaemic agents while glucose is
    inside the targets (Lian 2022 L145-149: doses "adjusted ... to keep the level stable").
    Never when a reading is low or above target. Inside the targets, a step is taken when
    FPG < `fpg_below` and 2-h PG < `pg2h_below` (both strict: the lower part of the target),
    or, with `fpg_fall_fraction` set, when FPG <= (1 - fraction) x the reading the current
    dose was set on. Insulin is cut by `insulin_step_fraction` of the dose, oral agents by
    `oral_step_fraction`."""

    fpg_below: float = Field(gt=0)
    pg2h_below: float = Field(gt=0)
    fpg_fall_fraction: float | None = Field(default=None, gt=0, lt=1)
    # With a fall of `fpg_fall_fraction`, a step is also taken while FPG is above target up
    # to this ceiling (mmol/L), whatever the 2-h PG; None: never above target.
    fall_cut_fpg_max: float | None = Field(default=None, gt=0)
    insulin_step_fraction: float = Field(gt=0, le=1)
    oral_step_fraction: float = Field(gt=0, le=1)
    source: str = ""


class Titration(_Strict):
    """Glucose targets (mmol/L, inclusive bounds) and the dose rules of the protocol."""

    fpg_low: float = Field(gt=0)
    fpg_high: float = Field(gt=0)
    pg2h_low: float = Field(gt=0)
    pg2h_high: float = Field(gt=0)
    hypo_below: float = Field(gt=0)
    insulin_withdraw_u_per_kg: float | None = Field(default=None, ge=0)
    insulin_decrease_fraction: float = Field(ge=0, le=1)
    insulin_decrease_min_u: float = Field(ge=0)
    insulin_increase_u: float = Field(ge=0)
    oral_withdraw_single_lowest: bool = False
    oral_step_fraction: float = Field(default=0.5, ge=0, le=1)
    deescalate_when_stable: Deescalation | None = None
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Titration:
        if self.fpg_low >= self.fpg_high or self.pg2h_low >= self.pg2h_high:
            raise ValueError("each target's low bound must be below its high bound")
        d = self.deescalate_when_stable
        if d is not None and not (
            self.fpg_low < d.fpg_below <= self.fpg_high
            and self.pg2h_low < d.pg2h_below <= self.pg2h_high
        ):
            raise ValueError(
                "deescalate_when_stable: fpg_below and pg2h_below must lie inside the targets "
                "(above the low bound, at most the high bound)"
            )
        return self


# ---------------------------------------------------------------- outcomes, subgroups


class Outcome(_Strict):
    """An endpoint: a catalogue analyte, or a derived index (`derived: true`) computed by
    celltrial.clinical from the analytes in `derived_from`."""

    analyte: str
    primary: bool = False
    derived: bool = False
    derived_from: list[str] = Field(default_factory=list)
    visits: list[str] = Field(default_factory=list)  # empty: every visit
    subgroup: str | None = None
    source: str = ""

    # derived indices are catalogue analytes too (kind "derived"), so one id names an outcome
    # in the protocol, the derivations, the analysis and the report; checked per field, so an
    # error names the field and its line
    _analyte = field_validator("analyte")(_known_analyte)

    @field_validator("derived_from")
    @classmethod
    def _known_inputs(cls, value: list[str]) -> list[str]:
        return [_known_analyte(a) for a in value]


Comparison = Literal[">", ">=", "<", "<="]


class AnalyteSubgroup(_Strict):
    """Members: the analyte's value at `visit` compared with `threshold`. A threshold given
    in another accepted unit of the analyte (hs-CRP 0.3 mg/dL) is converted to the canonical
    unit at load (3.0 mg/L), since StudyData stores canonical values; `unit` then reads the
    canonical unit. An unit the catalogue does not accept for the analyte is an error."""

    id: str
    label: str
    kind: Literal["analyte_threshold"]
    analyte: str
    visit: str
    comparison: Comparison
    threshold: float
    unit: str
    source: str

    _analyte = field_validator("analyte")(_known_analyte)

    @model_validator(mode="before")
    @classmethod
    def _to_canonical(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        analyte, unit, value = data.get("analyte"), data.get("unit"), data.get("threshold")
        if analyte not in ANALYTES or not isinstance(unit, str):
            return data  # the field validators report it
        canonical = ANALYTES[analyte].unit
        if unit == canonical or unit not in ANALYTES[analyte].accepted_units():
            return data
        if isinstance(value, bool) or not isinstance(value, int | float):
            return data
        # through the one converter, so the factor is the catalogue's (mg/dL x 10 = mg/L)
        return {
            **data,
            "threshold": float(convert(value, analyte, unit, canonical)),
            "unit": canonical,
        }

    @field_validator("unit")
    @classmethod
    def _canonical_unit(cls, value: str, info: ValidationInfo) -> str:
        analyte = info.data.get("analyte")
        if analyte in ANALYTES and value != ANALYTES[analyte].unit:
            accepted = ", ".join(ANALYTES[analyte].accepted_units())
            raise ValueError(f"unit {value!r} is not accepted for {analyte}; accepted: {accepted}")
        return value


class CkdSubgroup(_Strict):
    id: str
    label: str
    kind: Literal["ckd_stage"]
    visit: str
    stages: list[Literal["G1", "G2", "G3a", "G3b", "G4", "G5"]] = Field(min_length=1)
    source: str


class SexSubgroup(_Strict):
    id: str
    label: str
    kind: Literal["sex"]
    sex: Literal["M", "F"]
    source: str = ""


Subgroup = Annotated[AnalyteSubgroup | CkdSubgroup | SexSubgroup, Field(discriminator="kind")]


# ---------------------------------------------------------------- protocol


class Protocol(_Strict):
    id: str = Field(min_length=1)
    title: str
    design: Literal["single_arm_trial", "randomized_trial", "registry"]
    reference: str
    anchor: Literal["first_infusion", "enrollment"]
    run_in_days: int = Field(default=0, ge=0)
    visits: list[Visit] = Field(min_length=1)
    dosing: Dosing
    eligibility: list[Criterion] = Field(default_factory=list)
    lot_release: LotRelease
    titration: Titration | None = None
    outcomes: list[Outcome] = Field(min_length=1)
    subgroups: list[Subgroup] = Field(default_factory=list)

    def visit(self, visit_id: str) -> Visit:
        return next(v for v in self.visits if v.id == visit_id)

    @property
    def trial_visits(self) -> list[Visit]:
        """The paper's schedule: every visit not marked as an extension."""
        return [v for v in self.visits if not v.extension]

    @property
    def extension_visits(self) -> list[Visit]:
        return [v for v in self.visits if v.extension]

    @property
    def baseline_visit(self) -> Visit:
        return next(v for v in self.visits if v.baseline)

    @property
    def primary_outcomes(self) -> list[str]:
        return [o.analyte for o in self.outcomes if o.primary]
