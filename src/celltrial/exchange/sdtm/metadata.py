"""The SDTM variables CellTrial writes (variables.yaml, from SDTMIG 3.4) and the controlled
terms they may hold (terminology.yaml, a CDISC CT subset with its release), loaded once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

HERE = Path(__file__).parent
SDTMIG_VERSION = "3.4"  # CDISC SDTM Implementation Guide v3.4 (2021-11-29)
SDTM_VERSION = "2.0"  # CDISC SDTM v2.0 (2021-11-29), the model SDTMIG 3.4 implements


class Variable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(max_length=8)  # SAS transport v5: names of 8 characters at most
    label: str = Field(max_length=40)  # SAS transport v5: labels of 40 characters at most
    type: Literal["Char", "Num"]
    core: Literal["Req", "Exp", "Perm"]
    origin: Literal["CRF", "Derived", "Assigned", "Protocol"]
    codelist: str | None = None


class Codelist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    terms: list[str]
    extended: list[str] = Field(default_factory=list)


class AnalyteTest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    domain: Literal["LB", "VS"]
    testcd: str = Field(max_length=8)
    fasting: Literal["Y", "N"] | None = None
    tpt: str | None = None


class Terminology(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str
    version: str
    codelists: dict[str, Codelist]
    tests: dict[str, dict[str, str]]
    extended_tests: dict[str, list[str]] = Field(default_factory=dict)
    analytes: dict[str, AnalyteTest]
    units: dict[str, str]

    def allowed(self, codelist: str) -> frozenset[str]:
        """Every value a variable bound to `codelist` may hold."""
        if codelist in self.codelists:
            return frozenset(self.codelists[codelist].terms)
        domain, kind = codelist[:2], codelist[2:]
        pairs = self.tests[domain]
        return frozenset(pairs if kind in ("TESTCD", "PARMCD") else pairs.values())

    def cdisc_unit(self, ucum: str | None) -> str | None:
        return None if ucum is None else self.units.get(ucum, ucum)


@cache
def variables() -> dict[str, tuple[Variable, ...]]:
    raw = yaml.safe_load((HERE / "variables.yaml").read_text(encoding="utf-8"))
    return {ds: tuple(Variable(**v) for v in rows) for ds, rows in raw.items()}


@cache
def terminology() -> Terminology:
    raw = yaml.safe_load((HERE / "terminology.yaml").read_text(encoding="utf-8"))
    return Terminology(**raw)
