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
    "changes",
    "paired",
    "subgroup_paired",
    "subgroup_membership",
    "subgroup_change",
    "completers",
    "mixed",
    "medication_categories",
    "medication_doses",
    "ae_overall",
    "ae_by_term",
    "ae_by_infusion",
    "ae_by_term_infusion",
    "ae_by_time",
    "missing_summary",
    "follow_up",
)
# Frames with one record per participant (or per event): written as Parquet files beside
# results.json (400,000 medication records at 100,000 participants would be ~140 MB of JSON),
# referenced from its "per_participant" key.
PARTICIPANT_TABLES = ("medication_changes", "ae_events", "missing_values")
PARTICIPANT_DIR = "per_participant"


@dataclass(frozen=True)
class Results:
    meta: dict[str, Any]
    baseline: pl.DataFrame
    summaries: pl.DataFrame
    changes: pl.DataFrame  # unpaired per-visit beside paired (completers) change summaries
    paired: pl.DataFrame
    subgroup_paired: pl.DataFrame
    subgroup_membership: pl.DataFrame
    subgroup_change: pl.DataFrame
    completers: pl.DataFrame
    mixed: pl.DataFrame
    medication_changes: pl.DataFrame
    medication_categories: pl.DataFrame
    medication_doses: pl.DataFrame  # insulin, non-insulin and total dose per visit
    ae_overall: pl.DataFrame
    ae_by_term: pl.DataFrame
    ae_by_infusion: pl.DataFrame
    ae_by_term_infusion: pl.DataFrame
    ae_by_time: pl.DataFrame
    ae_events: pl.DataFrame
    missing_summary: pl.DataFrame
    missing_values: pl.DataFrame
    values: pl.DataFrame = field(repr=False)  # the analysis frame (figures), not in the JSON
    # the long-term follow-up at the protocol's extension visits (analysis.follow_up); kept
    # apart from the paper's outcomes, empty without values there
    follow_up: pl.DataFrame = field(default_factory=pl.DataFrame)

    def tables(self) -> dict[str, pl.DataFrame]:
        names = (*JSON_TABLES, *PARTICIPANT_TABLES)
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in names}

    def participant_files(self) -> dict[str, dict[str, Any]]:
        """Where each per-participant table is written, relative to results.json, and its size."""
        return {
            name: {
                "file": f"{PARTICIPANT_DIR}/{name}.parquet",
                "rows": getattr(self, name).height,
                "columns": getattr(self, name).columns,
            }
            for name in PARTICIPANT_TABLES
        }

    def to_dict(self) -> dict[str, Any]:
        """Every summary number, and where the per-participant records are."""
        out: dict[str, Any] = {"meta": _clean(self.meta)}
        for name in JSON_TABLES:
            out[name] = [_clean(r) for r in getattr(self, name).to_dicts()]
        out[PARTICIPANT_DIR] = self.participant_files()
        return out

    def to_json(self, path: Path) -> None:
        """Write results.json and, beside it, per_participant/<table>.parquet; every file under
        a temporary name first, then renamed (the Parquet files before the JSON naming them)."""
        folder = path.parent / PARTICIPANT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for name, where in self.participant_files().items():
            target = path.parent / where["file"]
            tmp = target.with_name(target.name + ".tmp")
            getattr(self, name).write_parquet(tmp)
            tmp.replace(target)
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
