"""Simulation presets: the parameters of a virtual cohort and its treatment, loaded from YAML.

A preset (presets/<name>.yaml) holds every parameter the simulator uses, each with its source;
presets/<name>_targets.yaml beside it holds the calibration targets with the seed line each
comes from. Both are validated by pydantic; unknown keys are errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from celltrial.clinical.drugs import Drug, UnknownDrugError, get_drug

PRESET_DIR = Path(__file__).parent / "presets"


class PresetError(ValueError):
    """A preset or target file that cannot be used; the message names file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Normal(_Strict):
    mean: float
    sd: float = Field(ge=0)
    min: float | None = None
    max: float | None = None


class Population(_Strict):
    age: Normal
    male_fraction: float = Field(ge=0, le=1)
    duration_years: Normal
    bmi: Normal
    height_male_cm: Normal
    height_female_cm: Normal


class Latent(_Strict):
    """Logit-scale beta-cell function and insulin sensitivity on the baseline regimen."""

    lb_mean: float
    lb_sd: float = Field(gt=0)
    ls_mean: float
    ls_sd: float = Field(gt=0)
    rho_bs: float = Field(ge=-1, le=1)
    rb_mean: float
    rb_sd: float = Field(ge=0)
    ppg_log_sd: float = Field(ge=0)
    ppg_scale: float = Field(gt=0)
    c_cp: float = Field(gt=0)
    c_cp_log_sd: float = Field(ge=0)
    cp_egfr_gamma: float = Field(ge=0)
    pg2h_c0: float
    pg2h_c1: float
    pg2h_sd: float = Field(ge=0)
    cp2h_c0: float
    cp2h_c1: float
    cp2h_sd: float = Field(ge=0)
    insulin_cross_reactivity: float = Field(ge=0)


# Oral classes whose effect the simulator models (treatment.CLASS_TARGET, research note §4.1).
SIMULATED_ORAL_CLASSES = ("metformin", "sulfonylurea", "dpp4", "sglt2", "agi")


def _catalogued_drug(value: str) -> Drug:
    """The catalogue entry of a preset's drug, or the validation error pydantic reports."""
    try:
        return get_drug(value)
    except UnknownDrugError as exc:
        raise ValueError(str(exc)) from None


class OralDrug(_Strict):
    """An oral agent of the regimen: the INN names the catalogue entry
    (celltrial.clinical.drugs), which gives its ATC code, class, DDD and labelled dose range."""

    drug: str
    fraction: float = Field(ge=0, le=1)
    dose_mg: float = Field(gt=0)

    @field_validator("drug")
    @classmethod
    def _catalogued(cls, value: str) -> str:
        d = _catalogued_drug(value)
        if d.route != "O" or d.drug_class not in SIMULATED_ORAL_CLASSES:
            raise ValueError(
                f"{value}: the simulator models oral {', '.join(SIMULATED_ORAL_CLASSES)} only"
            )
        return d.inn

    @model_validator(mode="after")
    def _labelled_dose(self) -> OralDrug:
        d = self.catalogue
        if d.min_daily is None or d.max_daily is None:
            raise ValueError(f"{d.inn} has no labelled daily dose range in the catalogue")
        if not d.min_daily <= self.dose_mg <= d.max_daily:
            raise ValueError(
                f"{d.inn} {self.dose_mg:g} mg/day is outside its labelled daily dose "
                f"{d.min_daily:g}-{d.max_daily:g} mg ({d.dose_source})"
            )
        return self

    @property
    def min_mg(self) -> float:
        return float(self.catalogue.min_daily)  # type: ignore[arg-type]  # checked above

    @property
    def max_mg(self) -> float:
        return float(self.catalogue.max_daily)  # type: ignore[arg-type]

    @property
    def catalogue(self) -> Drug:
        return get_drug(self.drug)

    @property
    def atc_code(self) -> str:
        return self.catalogue.atc

    @property
    def drug_class(self) -> str:
        return self.catalogue.drug_class

    @property
    def ddd_mg(self) -> float:
        return self.catalogue.ddd


class DrugEffect(_Strict):
    emax: float = Field(ge=0)
    ed50_ddd: float = Field(gt=0)


class Regimen(_Strict):
    insulin_fraction: float = Field(ge=0, le=1)
    insulin_indication: float = Field(ge=0, lt=1)
    insulin_u_per_kg_median: float = Field(gt=0)
    insulin_u_per_kg_log_sd: float = Field(ge=0)
    insulin_drug: str  # INN in celltrial.clinical.drugs (ATC and DDD come from there)
    kappa: float = Field(gt=0)
    # a treated patient's baseline insulin dose never drives FPG below this (mmol/L)
    baseline_fpg_floor: float | None = Field(default=None, gt=3.5)
    # ... and a patient whose FPG would exceed this is on at least the insulin that holds it
    baseline_fpg_ceiling: float | None = Field(default=None, gt=3.5)
    oral: list[OralDrug]
    effects: dict[str, DrugEffect]

    @field_validator("insulin_drug")
    @classmethod
    def _an_insulin(cls, value: str) -> str:
        d = _catalogued_drug(value)
        if d.drug_class != "insulin":
            raise ValueError(f"{value} is not an insulin (ATC {d.atc})")
        return d.inn

    @property
    def insulin(self) -> Drug:
        return get_drug(self.insulin_drug)


class Msc(_Strict):
    responder_fraction: float = Field(ge=0, le=1)
    emax_b: float = Field(ge=0)
    emax_s: float = Field(ge=0)
    emax_log_sd: float = Field(ge=0)
    onset_half_life_days: float = Field(gt=0)
    offset_half_life_days: float = Field(gt=0)
    m50: float = Field(gt=0)


class TrialEffect(_Strict):
    """Trial-participation effect Pl(t) on insulin sensitivity (`size`) and beta-cell
    function (`size_b`), research note §5.2 (Pl_S, Pl_B), one per-patient multiplier."""

    size: float = Field(ge=0)
    size_b: float = Field(default=0.0, ge=0)
    size_log_sd: float = Field(ge=0)
    onset_days: float = Field(gt=0)
    offset_days: float = Field(gt=0)


class Events(_Strict):
    fever_p_infusion: list[float]
    hypo_rate_per_day: float = Field(ge=0)
    hypo_fpg_scale: float = Field(gt=0)
    hypo_insulin_slope: float = Field(ge=0)
    dropout_per_year: float = Field(ge=0)


class Lab(_Strict):
    """Latent log-normal lab: median, between-subject CV, within-subject CVI, analytical CVA.
    The between-subject spread is a normal truncated at +-`cvg_truncate_sd` on the log scale."""

    analyte: str
    median: float = Field(gt=0)
    cvg: float = Field(ge=0)
    cvi: float = Field(ge=0)
    cva: float = Field(ge=0)
    cvg_truncate_sd: float = Field(default=2.5, gt=0)
    sex: Literal["M", "F"] | None = None
    s_link: float = 0.0  # d log(lab) / d log(S_eff)
    msc_effect: float = 0.0  # relative change at full MSC response
    infusion_bump: float = 0.0  # relative change 7 days after an infusion, decaying


class Schedule(_Strict):
    """Which analytes are measured at which visits (visit ids of the protocol)."""

    analytes: list[str]
    visits: list[str] | Literal["all"] = "all"


class Preset(_Strict):
    id: str
    title: str
    protocol: str
    n_patients: int = Field(ge=1)
    n_long_follow_up: int | None = Field(default=None, ge=0)
    long_follow_up_visits: list[str] = Field(default_factory=list)
    sites: list[str] = Field(min_length=1)
    start_date: str
    enrolment_span_days: int = Field(ge=0)
    population: Population
    latent: Latent
    regimen: Regimen
    msc: Msc
    trial_effect: TrialEffect
    titration_every_days: int = Field(ge=1)
    titration_allow_increase: bool
    # doses first reviewed one interval after the last infusion (Lian 2022 L181) or the first
    titration_start: Literal["last_infusion", "first_infusion"] = "last_infusion"
    screening: dict[str, Normal] = Field(default_factory=dict)
    screening_hba1c_cv: float = Field(ge=0)
    events: Events
    labs: list[Lab]
    schedule: list[Schedule]
    free_parameters: list[str] = Field(default_factory=list)


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PresetError(f"{path}: no such preset file") from None
    except yaml.YAMLError as exc:
        raise PresetError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PresetError(f"{path}: expected a mapping at the top level")
    return data


def _preset_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return p
    return PRESET_DIR / f"{name_or_path}.yaml"


def available_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml") if not p.stem.endswith("_targets"))


def load_preset(name_or_path: str | Path) -> Preset:
    """A shipped preset by name ("lian2022", "chin2025") or a YAML file path."""
    path = _preset_path(name_or_path)
    if not path.exists() and path.parent == PRESET_DIR:
        known = ", ".join(available_presets())
        raise PresetError(f"unknown preset {str(name_or_path)!r}; known: {known}")
    try:
        return Preset.model_validate(_load_yaml(path))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise PresetError(f"{path}: {where}: {err['msg']}") from None


def load_targets(name_or_path: str | Path) -> dict:
    """The calibration targets beside a preset: presets/<name>_targets.yaml."""
    path = _preset_path(name_or_path)
    return _load_yaml(path.with_name(f"{path.stem}_targets.yaml"))


def with_parameters(preset: Preset, values: dict[str, float]) -> Preset:
    """A copy of the preset with dotted parameters ("latent.lb_mean") replaced."""
    data = preset.model_dump()
    for dotted, value in values.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        if leaf not in node:
            raise PresetError(f"preset {preset.id}: unknown parameter {dotted!r}")
        node[leaf] = float(value)
    return Preset.model_validate(data)


def get_parameter(preset: Preset, dotted: str) -> float:
    node = preset.model_dump()
    for key in dotted.split("."):
        node = node[key]
    return float(node)
