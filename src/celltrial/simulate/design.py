"""A randomized trial design as a validated model loaded from YAML (docs/designs.md).

Arms and allocation ratio, the sample-size grid, the protocol and calibrated preset the
virtual patients come from, the primary endpoint and its test, alpha, dropout, the effect
uncertainty (parameter draws around the preset's values) and the randomization strata.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from celltrial.protocol import Protocol, ProtocolError, load_protocol
from celltrial.simulate.preset import (
    Preset,
    PresetError,
    get_parameter,
    load_preset,
    with_parameters,
)


class DesignError(ValueError):
    """A design file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arm(_Strict):
    id: str = Field(min_length=1)
    msc: bool  # receives UC-MSC (False: placebo infusion, the MSC effect off)
    ratio: int = Field(default=1, ge=1)  # allocation weight


class SizeGrid(_Strict):
    """Total randomized sample sizes start, start + step, ..., up to stop inclusive."""

    start: int = Field(ge=4)
    stop: int = Field(ge=4)
    step: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> SizeGrid:
        if self.stop < self.start:
            raise ValueError(f"stop {self.stop} is below start {self.start}")
        return self

    @property
    def sizes(self) -> list[int]:
        return list(range(self.start, self.stop + 1, self.step))


class Endpoint(_Strict):
    """The primary endpoint at `visit`: HbA1c change from baseline by ANCOVA adjusted for
    baseline HbA1c, or Zang 2022's responder (HbA1c < 7.0 % and daily insulin reduced by
    >= 50 %, a dropout counted as a non-responder) by the pooled two-proportion z-test or by
    logistic regression on arm and baseline HbA1c (Wald test of the arm)."""

    kind: Literal["hba1c_change_ancova", "responder_two_proportions", "responder_logistic"]
    visit: str


class DrawnParameter(_Strict):
    """A preset parameter drawn from a normal around the preset's value, clipped to [min, max]."""

    sd: float = Field(ge=0)
    min: float | None = None
    max: float | None = None


class Uncertainty(_Strict):
    """Effect assumptions with their uncertainty: `draws` parameter sets, each simulating an
    equal share of the trials (power averaged over the draws: expected power / assurance)."""

    draws: int = Field(default=1, ge=1)
    parameters: dict[str, DrawnParameter] = Field(default_factory=dict)


class Stratum(_Strict):
    """A stratification factor: a list of levels (site), or bands of a baseline analyte cut at
    `cuts` (hba1c cut at 8.5: bands "<8.5" and ">=8.5")."""

    id: str = Field(min_length=1)
    levels: list[str] | None = None
    analyte: str | None = None
    cuts: list[float] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Stratum:
        if (self.levels is None) == (self.cuts is None):
            raise ValueError(f"stratum {self.id}: give either levels or analyte with cuts")
        if self.cuts is not None and (self.analyte is None or not self.cuts):
            raise ValueError(f"stratum {self.id}: banded strata need an analyte and cuts")
        if self.cuts is not None and sorted(self.cuts) != self.cuts:
            raise ValueError(f"stratum {self.id}: cuts must be increasing")
        return self

    @property
    def names(self) -> list[str]:
        if self.levels is not None:
            return list(self.levels)
        cuts = self.cuts or []
        lows = [f"<{cuts[0]:g}"]
        mids = [f"{a:g}-<{b:g}" for a, b in pairwise(cuts)]
        return lows + mids + [f">={cuts[-1]:g}"]


class Randomization(_Strict):
    """Permuted blocks: each block holds `m` complete allocation cycles, m drawn uniformly
    from `block_multiples` (random block sizes keep the next allocation unpredictable)."""

    block_multiples: list[int] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    strata: list[Stratum] = Field(default_factory=list)


class TrialDesign(_Strict):
    id: str = Field(min_length=1)
    title: str
    preset: str  # a calibrated preset with arm targets (zang2022) or a YAML path
    protocol: str | None = None  # default: the preset's protocol
    arms: list[Arm] = Field(min_length=2, max_length=2)
    n: SizeGrid
    endpoint: Endpoint
    alpha: float = Field(default=0.05, gt=0, lt=1)
    dropout: float = Field(default=0.0, ge=0, lt=1)  # share lost before the endpoint visit
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)
    randomization: Randomization = Field(default_factory=Randomization)
    source: str = ""

    @model_validator(mode="after")
    def _one_msc_arm(self) -> TrialDesign:
        if sorted(a.msc for a in self.arms) != [False, True]:
            raise ValueError("arms: one UC-MSC arm (msc: true) and one placebo (msc: false)")
        if self.arms[0].id == self.arms[1].id:
            raise ValueError("arms: the two arms need different ids")
        return self

    @property
    def msc_share(self) -> float:
        return sum(a.ratio for a in self.arms if a.msc) / sum(a.ratio for a in self.arms)

    @property
    def cycle(self) -> list[Arm]:
        """One allocation cycle: each arm repeated by its ratio (1:1 -> [MSC, placebo])."""
        return [a for a in self.arms for _ in range(a.ratio)]


def load_design(path: str | Path) -> TrialDesign:
    """A design from its YAML file; errors name the file and the key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise DesignError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise DesignError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DesignError(f"{path}: expected a mapping at the top level")
    try:
        design = TrialDesign.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "(top level)"
        raise DesignError(f"{path}: {where}: {err['msg']}") from None
    _cross_check(design, path)
    return design


def design_protocol(design: TrialDesign) -> Protocol:
    """The design's protocol: its own, or the preset's."""
    return load_protocol(design.protocol or load_preset(design.preset).protocol)


def _cross_check(design: TrialDesign, path: Path) -> None:
    """The preset, protocol, endpoint visit and drawn parameters the design names exist."""
    try:
        preset = load_preset(design.preset)
        protocol = design_protocol(design)
    except (PresetError, ProtocolError) as exc:
        raise DesignError(f"{path}: preset/protocol: {exc}") from None
    visits = [v.id for v in protocol.trial_visits]  # the simulated (paper's) visits
    if design.endpoint.visit not in visits:
        raise DesignError(
            f"{path}: endpoint.visit: {design.endpoint.visit!r} is not a visit of protocol "
            f"{protocol.id} ({', '.join(visits)})"
        )
    for name in design.uncertainty.parameters:
        try:
            get_parameter(preset, name)
        except (KeyError, TypeError):
            raise DesignError(
                f"{path}: uncertainty.parameters: {name!r} is not a parameter of preset "
                f"{preset.id} (dotted, e.g. msc.emax_s)"
            ) from None


def design_preset(design: TrialDesign, endpoint_day: int) -> Preset:
    """The design's preset with its dropout: a constant hazard losing `dropout` of the
    patients by the endpoint day, rate = -ln(1 - d) / t (exponential survival)."""
    preset = load_preset(design.preset)
    if design.dropout <= 0:
        return with_parameters(preset, {"events.dropout_per_year": 0.0})
    rate = -math.log1p(-design.dropout) / (endpoint_day / 365.25)
    return with_parameters(preset, {"events.dropout_per_year": rate})


def parameter_draws(preset: Preset, uncertainty: Uncertainty, rng_values: list) -> list[Preset]:
    """One preset per draw: each drawn parameter = preset value + sd.z, clipped to its
    [min, max]; `rng_values[k][j]` is the standard normal of draw k, parameter j."""
    names = list(uncertainty.parameters)
    centre = [get_parameter(preset, name) for name in names]
    out = []
    for z in rng_values:  # one preset per draw (a few dozen)
        values = {}
        for j, name in enumerate(names):
            spec = uncertainty.parameters[name]
            v = centre[j] + spec.sd * float(z[j])
            lo = -math.inf if spec.min is None else spec.min
            hi = math.inf if spec.max is None else spec.max
            values[name] = min(max(v, lo), hi)
        out.append(with_parameters(preset, values) if values else preset)
    return out
