"""A participant's record as one dated timeline: consent, screening, infusions, visits,
labs, medications and adverse events, built as one frame (when, kind, text)."""

from __future__ import annotations

import polars as pl

from celltrial.registry.models import Consent, Membership

TIMELINE = {"when": pl.Datetime("us"), "kind": pl.Utf8, "text": pl.Utf8}


def _dated(frame: pl.DataFrame, when: str, kind: str, text: pl.Expr) -> pl.DataFrame:
    return frame.select(
        pl.col(when).cast(pl.Datetime("us")).alias("when"),
        pl.lit(kind).alias("kind"),
        text.alias("text"),
    ).filter(pl.col("when").is_not_null())


def timeline(
    member: Membership, participant_id: str, tables: dict[str, pl.DataFrame]
) -> list[dict]:
    consents = pl.DataFrame(
        list(
            Consent.objects.filter(study=member.study, participant_id=participant_id).values(
                "date_signed", "form_version", "withdrawal_date", "withdrawal_scope"
            )
        ),
        schema={
            "date_signed": pl.Date,
            "form_version": pl.Utf8,
            "withdrawal_date": pl.Date,
            "withdrawal_scope": pl.Utf8,
        },
        orient="row",
    )
    labs = (
        tables["measurements"]
        .group_by("time")
        .agg(pl.format("{} {} {}", "analyte", pl.col("value").round(2), "unit").str.join(", "))
    )
    screened = (
        tables["screening"]
        .group_by(pl.lit(1))
        .agg(pl.len().alias("n"), pl.col("met").sum().alias("met"))
    )
    parts = [
        _dated(
            consents,
            "date_signed",
            "consent",
            pl.format("consent signed (form {})", "form_version"),
        ),
        _dated(
            consents,
            "withdrawal_date",
            "consent",
            pl.format("consent withdrawn ({})", "withdrawal_scope"),
        ),
        _dated(
            tables["infusions"],
            "start_time",
            "infusion",
            pl.format(
                "infusion {} of lot {}: {} cells ({} per kg)",
                "infusion_number",
                "lot_id",
                pl.col("dose_cells").round_sig_figs(3),
                pl.col("dose_cells_per_kg").round_sig_figs(3),
            ),
        ),
        _dated(
            tables["visits"],
            "actual_date",
            "visit",
            pl.format(
                "visit {} (day {}, {})",
                "visit_id",
                "study_day",
                pl.when(pl.col("in_window"))
                .then(pl.lit("in window"))
                .otherwise(pl.lit("out of window")),
            ),
        ),
        _dated(labs, "time", "labs", pl.col("analyte")),
        _dated(
            tables["medications"],
            "start_date",
            "medication",
            pl.format("{} {} {} started", "drug", "daily_dose", "dose_unit"),
        ),
        _dated(tables["medications"], "end_date", "medication", pl.format("{} stopped", "drug")),
        _dated(
            tables["adverse_events"],
            "onset_time",
            "adverse event",
            pl.format("{} (grade {}, serious: {}, {})", "term", "grade", "serious", "related"),
        ),
    ]
    out = pl.concat([p.cast(TIMELINE) for p in parts]).sort("when")
    if screened.height:
        note = f"screening: {screened['met'][0]} of {screened['n'][0]} criteria met"
        out = out.vstack(
            pl.DataFrame({"when": [None], "kind": ["screening"], "text": [note]}, schema=TIMELINE)
        )
    return out.to_dicts()
