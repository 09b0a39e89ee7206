"""Results: every number an analysis produced, as Polars frames plus metadata, and JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import polars as pl

# Frames written to results.json, in this order (shape documented in docs/results.md).
JSON_TABLES = (
    "baseline",
    "summaries",
    "paired",
    "subgroup_paired",
    "subgroup_membership",
    "subgroup_change",
    "completers",
    "mixed",
    "medication_changes",
    "medication_categories",
    "ae_overall",
    "ae_by_term",
    "ae_by_infusion",
    "ae_by_time",
    "ae_events",
    "missing_summary",
    "missing_values",
)


@dataclass(frozen=True)
class Results:
    meta: dict[str, Any]
    baseline: pl.DataFrame
    summaries: pl.DataFrame
    paired: pl.DataFrame
    subgroup_paired: pl.DataFrame
    subgroup_membership: pl.DataFrame
    subgroup_change: pl.DataFrame
    completers: pl.DataFrame
    mixed: pl.DataFrame
    medication_changes: pl.DataFrame
    medication_categories: pl.DataFrame
    ae_overall: pl.DataFrame
    ae_by_term: pl.DataFrame
    ae_by_infusion: pl.DataFrame
    ae_by_time: pl.DataFrame
    ae_events: pl.DataFrame
    missing_summary: pl.DataFrame
    missing_values: pl.DataFrame
    values: pl.DataFrame = field(repr=False)  # the analysis frame (figures), not in the JSON

    def tables(self) -> dict[str, pl.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in JSON_TABLES}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"meta": _clean(self.meta)}
        for name in JSON_TABLES:
            out[name] = [_clean(r) for r in getattr(self, name).to_dicts()]
        return out

    def to_json(self, path: Path) -> None:
        """Write results.json atomically (temporary file, then rename)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, default=str, allow_nan=False))
        tmp.replace(path)


def _clean(value: Any) -> Any:
    """NaN and infinity become null (JSON has neither); dates become ISO strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
