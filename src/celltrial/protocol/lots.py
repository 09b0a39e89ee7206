"""Lot release: does a cell-product lot meet the protocol's release specification?

ISCT minimal criteria (Dominici M et al. Cytotherapy 2006;8:315-317): plastic adherence,
>= 95 % of cells CD73+, CD90+, CD105+ and <= 2 % CD45, CD34, CD14 or CD11b, CD79a or CD19,
HLA-DR; plus viability, sterility, mycoplasma and endotoxin as the protocol sets them.
Thresholds are inclusive (95.0 % passes, 2.0 % passes). A missing result fails the lot:
an untested lot is not a released lot.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from celltrial.protocol.model import LotRelease

_MARKER_LABEL = {
    "cd73": "CD73",
    "cd90": "CD90",
    "cd105": "CD105",
    "cd45": "CD45",
    "cd34": "CD34",
    "cd14_cd11b": "CD14/CD11b",
    "cd79a_cd19": "CD79a/CD19",
    "hla_dr": "HLA-DR",
}


def _fail(missing: pl.Expr, bad: pl.Expr, missing_msg: str, bad_msg: pl.Expr) -> pl.Expr:
    return pl.when(missing).then(pl.lit(missing_msg)).when(bad).then(bad_msg)


def _pct_rule(column: str, label: str, limit: float, positive: bool) -> pl.Expr:
    value = pl.col(column)
    bad = value < limit if positive else value > limit
    sign, kind = (">=", "positive") if positive else ("<=", "negative")
    msg = pl.format(
        "{} {} % fails ISCT {} {} % ({})",
        pl.lit(label),
        value,
        pl.lit(sign),
        pl.lit(limit),
        pl.lit(kind),
    )
    return _fail(value.is_null(), bad, f"{column} missing", msg)


def lot_failures(spec: LotRelease, on_date: dt.date | pl.Expr | None = None) -> pl.Expr:
    """A list[str] expression over the lots table: every release rule the lot breaks,
    and, when `on_date` is given, expiry before that date (a lot is usable on its expiry
    date)."""
    status = pl.col("release_status").fill_null("").str.to_lowercase()
    rules = [
        pl.when(status != spec.require_status).then(
            pl.format("release_status is '{}', not '{}'", status, pl.lit(spec.require_status))
        )
    ]
    if spec.plastic_adherent:
        adherent = pl.col("plastic_adherent")
        rules.append(
            _fail(
                adherent.is_null(),
                ~adherent,
                "plastic_adherent missing",
                pl.lit("not plastic-adherent"),
            )
        )
    for m in spec.positive_markers:
        rules.append(_pct_rule(f"{m}_pct", _MARKER_LABEL[m], spec.positive_min_pct, True))
    for m in spec.negative_markers:
        rules.append(_pct_rule(f"{m}_pct", _MARKER_LABEL[m], spec.negative_max_pct, False))
    if spec.viability_min_pct is not None:
        v = pl.col("viability_pct")
        msg = pl.format("viability {} % below {} %", v, pl.lit(spec.viability_min_pct))
        rules.append(_fail(v.is_null(), v < spec.viability_min_pct, "viability_pct missing", msg))
    for column, wanted in (("sterility", spec.sterility), ("mycoplasma", spec.mycoplasma)):
        got = pl.col(column).str.strip_chars().str.to_lowercase()
        msg = pl.format("{} is '{}', required '{}'", pl.lit(column), got, pl.lit(wanted))
        rules.append(_fail(got.is_null(), got != wanted, f"{column} missing", msg))
    if spec.endotoxin_max_eu_ml is not None:
        e = pl.col("endotoxin_eu_ml")
        msg = pl.format("endotoxin {} EU/mL above {} EU/mL", e, pl.lit(spec.endotoxin_max_eu_ml))
        rules.append(
            _fail(e.is_null(), e > spec.endotoxin_max_eu_ml, "endotoxin_eu_ml missing", msg)
        )
    if on_date is not None:
        day = pl.lit(on_date) if isinstance(on_date, dt.date) else on_date
        exp = pl.col("expiry_date")
        msg = pl.format("expired on {} (used {})", exp, day)
        rules.append(_fail(exp.is_null(), exp < day, "expiry_date missing", msg))
    return pl.concat_list(rules).list.drop_nulls()


def release_lots(
    lots: pl.DataFrame, spec: LotRelease, on_date: dt.date | None = None
) -> pl.DataFrame:
    """lot_id, released (bool), reasons (list of broken rules; empty when released)."""
    return (
        lots.select("lot_id", lot_failures(spec, on_date).alias("reasons"))
        .with_columns((pl.col("reasons").list.len() == 0).alias("released"))
        .select("lot_id", "released", "reasons")
    )
