"""Journal-style tables built from Results: one ReportTable per table, shared by the XLSX,
DOCX and HTML writers. Numbers are formatted here (and only here)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from celltrial.analysis.paired import METHOD_T
from celltrial.analysis.results import Results
from celltrial.clinical.analytes import ANALYTES

# Labels for derived indices that are not catalogue analytes.
DERIVED_LABELS = {
    "homa_ir_cp": "HOMA-IR (C-peptide)",
    "homa_b_cp": "HOMA-B (C-peptide), %",
    "homa_ir": "HOMA-IR",
    "homa_b": "HOMA-B, %",
}
COVARIATE_LABELS = {
    "age": "Age, years",
    "diabetes_duration_years": "Duration of diabetes, years",
    "height_cm": "Height, cm",
}


@dataclass(frozen=True)
class ReportTable:
    key: str  # short name: sheet name, anchor
    title: str
    frame: pl.DataFrame  # every cell already a string
    note: str = ""


def label(analyte: str) -> str:
    """Readable name with unit: catalogue name and canonical unit, or a derived label."""
    if analyte in ANALYTES:
        a = ANALYTES[analyte]
        return f"{a.name}, {a.unit}"
    return DERIVED_LABELS.get(analyte, COVARIATE_LABELS.get(analyte, analyte))


def _fmt(x: pl.Expr, digits: int = 2) -> pl.Expr:
    """Fixed decimals as text (vectorized: scaled integer split into whole and fraction),
    empty for missing."""
    scaled = (x * 10**digits).round(0).cast(pl.Int64)
    whole = (scaled.abs() // 10**digits).cast(pl.Utf8)
    text = whole
    if digits > 0:
        frac = (scaled.abs() % 10**digits).cast(pl.Utf8).str.zfill(digits)
        text = pl.concat_str([whole, frac], separator=".")
    sign = pl.when(scaled < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(x.is_null() | x.is_nan()).then(pl.lit("")).otherwise(sign + text)


def _p(x: pl.Expr) -> pl.Expr:
    """P-values as journals print them: <0.001, else three decimals."""
    return (
        pl.when(x.is_null() | x.is_nan())
        .then(pl.lit(""))
        .when(x < 0.001)
        .then(pl.lit("<0.001"))
        .otherwise(_fmt(x, 3))
    )


def _mean_sd(m: str = "mean", s: str = "sd") -> pl.Expr:
    return (
        pl.when(pl.col(m).is_null())
        .then(pl.lit(""))
        .otherwise(pl.concat_str([_fmt(pl.col(m)), _fmt(pl.col(s))], separator=" ± "))
    )


def _median_iqr() -> pl.Expr:
    return (
        pl.when(pl.col("median").is_null())
        .then(pl.lit(""))
        .otherwise(
            pl.format("{} ({}, {})", _fmt(pl.col("median")), _fmt(pl.col("q1")), _fmt(pl.col("q3")))
        )
    )


def _est_ci(e: str = "estimate", lo: str = "ci_low", hi: str = "ci_high") -> pl.Expr:
    return (
        pl.when(pl.col(e).is_null() | pl.col(e).is_nan())
        .then(pl.lit(""))
        .when(pl.col(lo).is_null())
        .then(_fmt(pl.col(e)))
        .otherwise(pl.format("{} ({} to {})", _fmt(pl.col(e)), _fmt(pl.col(lo)), _fmt(pl.col(hi))))
    )


def _labelled(frame: pl.DataFrame, column: str = "analyte") -> pl.Expr:
    mapping = {a: label(a) for a in frame[column].unique().to_list()} if frame.height else {}
    return pl.col(column).replace_strict(mapping, default=pl.col(column), return_dtype=pl.Utf8)


def _pct_ci() -> pl.Expr:
    return pl.format(
        "{} ({}%) [{}-{}]",
        pl.col("count"),
        _fmt(pl.col("percent"), 1),
        _fmt(pl.col("ci_low") * 100, 1),
        _fmt(pl.col("ci_high") * 100, 1),
    )


def baseline_table(r: Results) -> ReportTable:
    b = r.baseline
    cont = b.filter(pl.col("kind") == "continuous").select(
        _labelled(b, "variable").alias("Characteristic"),
        pl.col("n").cast(pl.Utf8).alias("n"),
        _mean_sd().alias("Mean ± SD"),
        _median_iqr().alias("Median (Q1, Q3)"),
    )
    cat = b.filter(pl.col("kind") == "categorical").select(
        pl.format("Sex: {}", pl.col("level").replace({"M": "male", "F": "female"})).alias(
            "Characteristic"
        ),
        pl.col("n").cast(pl.Utf8).alias("n"),
        _pct_ci().alias("Mean ± SD"),
        pl.lit("").alias("Median (Q1, Q3)"),
    )
    note = "Categorical rows: n (%) [Wilson 95 % CI]. Quartiles: SPSS HAVERAGE (type 6)."
    return ReportTable(
        "baseline", "Table 1. Baseline characteristics", pl.concat([cont, cat]), note
    )


def summaries_table(r: Results) -> ReportTable:
    s = r.summaries
    frame = s.select(
        _labelled(s).alias("Outcome"),
        pl.col("visit_id").alias("Visit"),
        pl.col("n").cast(pl.Utf8).alias("n"),
        _mean_sd().alias("Mean ± SD"),
        _median_iqr().alias("Median (Q1, Q3)"),
    )
    return ReportTable(
        "per_visit", "Table 2. Outcomes per visit", frame, r.meta["methods"]["quantiles"]
    )


def paired_table(frame: pl.DataFrame, key: str, title: str) -> ReportTable:
    if frame.height == 0:
        return ReportTable(key, title, pl.DataFrame({"": ["no comparisons"]}))
    w = frame.filter(pl.col("method") != METHOD_T)
    t = frame.filter(pl.col("method") == METHOD_T).select(
        "subgroup",
        "analyte",
        "visit_id",
        _est_ci().alias("Mean change (95% CI)"),
        _p(pl.col("p_value")).alias("t-test P"),
        _p(pl.col("p_holm")).alias("t-test P (Holm)"),
    )
    out = w.join(t, on=["subgroup", "analyte", "visit_id"], how="left", maintain_order="left")
    cols = [
        _labelled(out).alias("Outcome"),
        pl.format("{} vs {}", pl.col("visit_id"), pl.col("baseline_visit_id")).alias("Visit"),
        pl.col("n_pairs").cast(pl.Utf8).alias("n pairs"),
        _est_ci().alias("HL median change (95% CI)"),
        _p(pl.col("p_value")).alias("Wilcoxon P"),
        _p(pl.col("p_holm")).alias("Wilcoxon P (Holm)"),
        "Mean change (95% CI)",
        "t-test P",
        "t-test P (Holm)",
        _fmt(pl.col("pct_change"), 1).alias("Change, %"),
        pl.col("method").str.replace("wilcoxon signed-rank ", "").alias("Wilcoxon method"),
        pl.col("reason").fill_null("").alias("Note"),
    ]
    if out["subgroup"].n_unique() > 1 or out["subgroup"][0] != "all":
        cols.insert(0, pl.col("subgroup").alias("Subgroup"))
    note = "HL: Hodges-Lehmann estimate. Holm adjustment within outcome and test over visits."
    return ReportTable(key, title, out.select(cols), note)


def completers_table(r: Results) -> ReportTable:
    c = r.completers
    if c.height == 0:
        return ReportTable("completers", "Completers", pl.DataFrame({"": ["none"]}))
    last = c["last_visit_id"][0]
    frame = c.select(
        _labelled(c, "variable").alias("Baseline variable"),
        pl.col("n_completers").cast(pl.Utf8).alias("n completers"),
        pl.col("n_non_completers").cast(pl.Utf8).alias("n non-completers"),
        _fmt(pl.col("completers")).alias("Completers"),
        _fmt(pl.col("non_completers")).alias("Non-completers"),
        _p(pl.col("p_value")).alias("P"),
        pl.col("method").alias("Test"),
        pl.col("reason").fill_null("").alias("Note"),
    )
    note = f"Completers: a value at {last}. Medians at baseline; sex row: number of men."
    return ReportTable(
        "completers", "Table 5. Completers and non-completers at baseline", frame, note
    )


def mixed_table(r: Results) -> ReportTable:
    m = r.mixed
    frame = m.select(
        _labelled(m).alias("Outcome"),
        pl.format("{} vs {}", pl.col("visit_id"), pl.col("baseline_visit_id")).alias("Visit"),
        pl.col("n_participants").cast(pl.Utf8).alias("Participants"),
        pl.col("n_observations").cast(pl.Utf8).alias("Observations"),
        _est_ci().alias("Estimated change (95% CI)"),
        _p(pl.col("p_value")).alias("P"),
        pl.col("reason").fill_null("").alias("Note"),
    )
    return ReportTable(
        "mixed",
        "Table 6. Linear mixed models (all observed values)",
        frame,
        r.meta["methods"]["mixed_model"],
    )


def medication_table(r: Results) -> ReportTable:
    m = r.medication_categories.filter(pl.col("n") > 0)
    frame = m.select(
        pl.col("visit_id").alias("Visit"),
        pl.col("category").alias("Dose change vs baseline"),
        pl.col("n").cast(pl.Utf8).alias("n"),
        _pct_ci().alias("n (%) [95% CI]"),
    )
    note = "Total hypoglycaemic-agent dose as a sum of fractions of WHO defined daily doses."
    return ReportTable("medication", "Table 7. Hypoglycaemic-agent dose change", frame, note)


def ae_tables(r: Results) -> list[ReportTable]:
    o = r.ae_overall.select(
        pl.col("participants").cast(pl.Utf8).alias("Participants"),
        _pct_ci().alias("With any AE, n (%) [95% CI]"),
        pl.col("events").cast(pl.Utf8).alias("Events"),
        pl.col("serious").cast(pl.Utf8).alias("Serious"),
        pl.col("infusions").cast(pl.Utf8).alias("Infusions"),
        _fmt(pl.col("events_per_infusion"), 3).alias("Events per infusion"),
    )
    t = r.ae_by_term.select(
        pl.col("term").alias("Term"),
        pl.col("events").cast(pl.Utf8).alias("Events"),
        _pct_ci().alias("Participants, n (%) [95% CI]"),
    )
    i = r.ae_by_infusion.select(
        pl.col("infusion_number").cast(pl.Utf8).alias("Infusion"),
        pl.col("infusions").cast(pl.Utf8).alias("Given"),
        pl.col("events").cast(pl.Utf8).alias("Events"),
        _fmt(pl.col("events_per_infusion"), 3).alias("Events per infusion"),
    )
    h = r.ae_by_time.select(
        pl.col("time_after_infusion").alias("Onset after infusion"),
        pl.col("events").cast(pl.Utf8).alias("Events"),
    )
    return [
        ReportTable("ae_overall", "Table 8a. Adverse events", o),
        ReportTable("ae_term", "Table 8b. Adverse events by term", t),
        ReportTable("ae_infusion", "Table 8c. Adverse events by infusion number", i),
        ReportTable("ae_time", "Table 8d. Adverse events by time after infusion", h),
    ]


def missing_table(r: Results) -> ReportTable:
    m = r.missing_summary
    frame = m.select(
        _labelled(m).alias("Outcome"),
        pl.col("visit_id").alias("Visit"),
        pl.col("expected").cast(pl.Utf8).alias("Expected"),
        pl.col("observed").cast(pl.Utf8).alias("Observed"),
        pl.col("missing").cast(pl.Utf8).alias("Missing"),
        _fmt(pl.col("pct_missing"), 1).alias("Missing, %"),
    )
    return ReportTable("missing", "Table 9. Missing data", frame)


def report_tables(r: Results) -> list[ReportTable]:
    """Every table of the report, in order."""
    return [
        baseline_table(r),
        summaries_table(r),
        paired_table(r.paired, "paired", "Table 3. Change from baseline"),
        paired_table(r.subgroup_paired, "subgroups", "Table 4. Change from baseline in subgroups"),
        completers_table(r),
        mixed_table(r),
        medication_table(r),
        *ae_tables(r),
        missing_table(r),
    ]
