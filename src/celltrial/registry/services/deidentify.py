"""De-identified StudyData for statisticians (HIPAA Safe Harbor, 45 CFR 164.514(b)(2),
and REDCap's de-identified export): participant, infusion and adverse-event ids replaced
by stable pseudonyms (HMAC of the study's secret), every date of a participant shifted by
one secret per-participant offset (intervals within a participant are kept), free text
dropped."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

from celltrial.data import StudyData

SHIFT_DAYS = 180  # offsets in -180..+180 days, as REDCap's date shifting (max 364) allows
FREE_TEXT = {  # columns a person types freely
    "participants": ("withdrawal_reason",),
    "screening": ("value", "reason"),
    "lots": ("storage",),
}
IDS = {  # columns holding an identifier of a participant's record
    "participant_id": "P",
    "infusion_id": "I",
    "ae_id": "AE",
}


def pseudonym(secret: str, kind: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{IDS[kind]}-{digest[:12]}"


def shift_days(secret: str, participant_id: str) -> int:
    digest = hmac.new(secret.encode(), f"shift:{participant_id}".encode(), hashlib.sha256)
    return int.from_bytes(digest.digest()[:8], "big") % (2 * SHIFT_DAYS + 1) - SHIFT_DAYS


def _mapping(secret: str, kind: str, values: pl.Series) -> pl.DataFrame:
    distinct = values.drop_nulls().unique().to_list()  # one HMAC per distinct id
    return pl.DataFrame(
        {"_old": distinct, "_new": [pseudonym(secret, kind, v) for v in distinct]},
        schema={"_old": pl.Utf8, "_new": pl.Utf8},
    )


def deidentify(study: StudyData, secret: str) -> StudyData:
    ids = study.participants["participant_id"]
    shifts = pl.DataFrame(
        {
            "participant_id": ids,
            "_shift": [shift_days(secret, p) for p in ids.to_list()],  # one per participant
        },
        schema={"participant_id": pl.Utf8, "_shift": pl.Int64},
    )
    maps = {
        kind: _mapping(secret, kind, pl.concat([getattr(study, t)[kind] for t in tables]))
        for kind, tables in {
            "participant_id": ["participants"],
            "infusion_id": ["infusions", "adverse_events"],
            "ae_id": ["adverse_events"],
        }.items()
    }
    out = study
    for table, frame in study.tables().items():
        out = out.with_table(table, _table(frame, table, shifts, maps))
    return out


def _table(
    frame: pl.DataFrame, table: str, shifts: pl.DataFrame, maps: dict[str, pl.DataFrame]
) -> pl.DataFrame:
    columns = frame.columns
    if table == "lots":
        # a lot serves participants with different shifts: no one shift keeps its dates
        # consistent with their infusions, and unshifted dates would reveal calendar time
        frame = frame.with_columns(
            pl.lit(None, t).alias(c) for c, t in frame.schema.items() if t.is_temporal()
        )
    else:
        frame = frame.join(shifts, on="participant_id", how="left", maintain_order="left")
        days = pl.duration(days=pl.col("_shift").fill_null(0))
        frame = frame.with_columns(
            (pl.col(c) + days).cast(t) for c, t in frame.schema.items() if t.is_temporal()
        )
    for kind, mapping in maps.items():
        if kind in columns:
            frame = (
                frame.join(
                    mapping, left_on=kind, right_on="_old", how="left", maintain_order="left"
                )
                .with_columns(pl.col("_new").alias(kind))
                .drop("_new")
            )
    frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(c) for c in FREE_TEXT.get(table, ()))
    return frame.select(columns)
