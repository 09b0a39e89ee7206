"""Journal-style tables built from Results: one ReportTable per table, shared by the XLSX,
DOCX and HTML writers. Numbers are formatted here (and only here).

Each table has a display frame (every cell text: "7.52 ± 1.10") for the documents and a sheet
frame (the same rows, numbers as numbers) for the spreadsheet. A table with nothing to show is
kept as its title and one sentence saying why (`omitted`), and is not numbered.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

from celltrial.analysis.groups import METHOD_FISHER
from celltrial.analysis.paired import METHOD_T
from celltrial.analysis.results import Results
from celltrial.clinical.adverse_event_terms import ATTRIBUTION_WINDOW_H
from celltrial.clinical.analytes import ANALYTES, SEX_SPECIFIC
from celltrial.report.labels import label, visit_names
from celltrial.report.precision import MAX_DECIMALS, P_DECIMALS, PERCENT_DECIMALS, decimals

# Excel number formats of sheet columns ("dp": the row's decimals, from the _dp column).
INT, PCT, DP = "0", "0.0", "dp"
P_FORMAT = '[<0.001]"<0.001";0.000'  # P-values as printed: <0.001, else three decimals
ROW_DECIMALS = "_dp"  # sheet column with the decimals of each row (not written)


@dataclass(frozen=True)
class ReportTable:
    key: str  # short name: sheet name, anchor
    title: str
    frame: pl.DataFrame  # every cell already a string; no columns: the table is omitted
    note: str = ""  # footnote, or for an omitted table the sentence saying why
    sheet: pl.DataFrame | None = None  # the same rows, numbers as numbers (tables.xlsx)
    formats: dict[str, str] = field(default_factory=dict)  # sheet column -> number format

    @property
    def omitted(self) -> bool:
        return self.frame.width == 0


def _omitted(key: str, title: str, sentence: str) -> ReportTable:
    return ReportTable(key, title, pl.DataFrame(), sentence)


# ---------------------------------------------------------------- number formatting


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


def _num(x: pl.Expr) -> pl.Expr:
    """`x` with the row's decimals (column _dp, 0 to MAX_DECIMALS)."""
    out = pl.when(pl.col(ROW_DECIMALS) == 0).then(_fmt(x, 0))
    for d in range(1, MAX_DECIMALS + 1):  # one branch per possible number of decimals
        out = out.when(pl.col(ROW_DECIMALS) == d).then(_fmt(x, d))
    return out.otherwise(_fmt(x, 2))


def _p(x: pl.Expr) -> pl.Expr:
    """P-values as journals print them: <0.001, else three decimals."""
    return (
        pl.when(x.is_null() | x.is_nan())
        .then(pl.lit(""))
        .when(x < 0.001)
        .then(pl.lit("<0.001"))
        .otherwise(_fmt(x, P_DECIMALS))
    )


def _mean_sd(m: str = "mean", s: str = "sd") -> pl.Expr:
    sd = (
        pl.when(pl.col(s).is_null() | pl.col(s).is_nan())
        .then(pl.lit(""))
        .otherwise(pl.lit(" ± ") + _num(pl.col(s)))
    )
    return pl.when(pl.col(m).is_null()).then(pl.lit("")).otherwise(_num(pl.col(m)) + sd)


def _median_iqr() -> pl.Expr:
    return (
        pl.when(pl.col("median").is_null())
        .then(pl.lit(""))
        .otherwise(
            pl.format("{} ({}, {})", _num(pl.col("median")), _num(pl.col("q1")), _num(pl.col("q3")))
        )
    )


def _est_ci(e: str = "estimate", lo: str = "ci_low", hi: str = "ci_high") -> pl.Expr:
    return (
        pl.when(pl.col(e).is_null() | pl.col(e).is_nan())
        .then(pl.lit(""))
        .when(pl.col(lo).is_null())
        .then(_num(pl.col(e)))
        .otherwise(pl.format("{} ({} to {})", _num(pl.col(e)), _num(pl.col(lo)), _num(pl.col(hi))))
    )


def _pct_ci() -> pl.Expr:
    return pl.format(
        "{} ({} %) [{}-{}]",
        pl.col("count"),
        _fmt(pl.col("percent"), PERCENT_DECIMALS),
        _fmt(pl.col("ci_low") * 100, PERCENT_DECIMALS),
        _fmt(pl.col("ci_high") * 100, PERCENT_DECIMALS),
    )


def _with_decimals(frame: pl.DataFrame, column: str = "analyte") -> pl.DataFrame:
    """Add _dp, the decimals of each row's analyte or variable (report.precision)."""
    names = frame[column].unique().to_list() if frame.height else []
    mapping = {a: decimals(a) for a in names if a is not None}  # one per distinct analyte
    dp = pl.col(column).replace_strict(mapping, default=2, return_dtype=pl.Int64)
    return frame.with_columns(dp.alias(ROW_DECIMALS))


def _labelled(frame: pl.DataFrame, column: str = "analyte") -> pl.Expr:
    mapping = {a: label(a) for a in frame[column].unique().to_list()} if frame.height else {}
    return pl.col(column).replace_strict(mapping, default=pl.col(column), return_dtype=pl.Utf8)


def _visit(r: Results, column: str = "visit_id") -> pl.Expr:
    names = visit_names(r.meta["visits"], r.meta.get("visit_labels"))
    return pl.col(column).replace_strict(names, default=pl.col(column), return_dtype=pl.Utf8)


def _ints(*columns: str) -> dict[str, str]:
    return dict.fromkeys(columns, INT)


# ---------------------------------------------------------------- the tables


def baseline_table(r: Results) -> ReportTable:
    """Table 1 as Lian 2022 lays it out: one column for everyone (n = N), continuous
    characteristics as mean ± SD, sex as n (%); a row with fewer values than participants
    says its n. The sheet keeps every number (median, quartiles, Wilson CI)."""
    b = _with_decimals(r.baseline, "variable")
    total = int(r.meta["n_participants"])
    cont = b.filter(pl.col("kind") == "continuous")
    cat = b.filter(pl.col("kind") == "categorical")
    sex = pl.col("level").replace_strict({"M": "Male", "F": "Female"}, default=pl.col("level"))
    fewer = (
        pl.when(pl.col("n") < total).then(pl.format(" (n = {})", pl.col("n"))).otherwise(pl.lit(""))
    )
    column = f"All participants (n = {total})"
    frame = pl.concat(
        [
            cont.select(
                _labelled(b, "variable").alias("Characteristic"),
                (_mean_sd() + fewer).alias(column),
            ),
            cat.select(
                sex.alias("Characteristic"),
                (
                    pl.format("{} ({} %)", "count", _fmt(pl.col("percent"), PERCENT_DECIMALS))
                    + fewer
                ).alias(column),
            ),
        ]
    )
    frame = _sex_after_age(frame, cont.height, int(cont.head(1)["variable"].eq("age").sum()))
    sheet = pl.concat([cont, cat], how="diagonal_relaxed").select(
        pl.when(pl.col("kind") == "categorical")
        .then(sex)
        .otherwise(_labelled(b, "variable"))
        .alias("Characteristic"),
        "n",
        *[pl.col(c).alias(c.upper() if len(c) == 2 else c.capitalize()) for c in _SUMMARY],
        pl.col("count").alias("Count"),
        pl.col("percent").alias("Percent"),
        (pl.col("ci_low") * 100).alias("95% CI low, %"),
        (pl.col("ci_high") * 100).alias("95% CI high, %"),
        ROW_DECIMALS,
    )
    formats = {**_ints("n", "Count"), **_dp_columns(_SUMMARY_NAMES)}
    formats.update(dict.fromkeys(("Percent", "95% CI low, %", "95% CI high, %"), PCT))
    note = (
        "Mean ± SD, or n (%) of the participants whose sex is recorded; analytes at the "
        "baseline visit. As Lian 2022 Table 1. The spreadsheet adds median, quartiles and the "
        "Wilson 95% CI of each percentage. " + _quartile_note(r)
    )
    return ReportTable("baseline", "Baseline characteristics", frame, note, sheet, formats)


def _sex_after_age(frame: pl.DataFrame, n_continuous: int, has_age: int) -> pl.DataFrame:
    """Lian 2022 Table 1 order: age (when there is one), then male and female, then the
    other continuous characteristics."""
    return pl.concat([frame[:has_age], frame[n_continuous:], frame[has_age:n_continuous]])


_SUMMARY = ("mean", "sd", "median", "q1", "q3")
_SUMMARY_NAMES = ("Mean", "SD", "Median", "Q1", "Q3")


def _dp_columns(names: tuple[str, ...]) -> dict[str, str]:
    return dict.fromkeys(names, DP)


def _quartile_note(r: Results) -> str:
    return f"Quartiles: {r.meta['methods']['quantiles']}."


def summaries_table(r: Results) -> ReportTable:
    s = _with_decimals(r.summaries)
    frame = s.select(
        _labelled(s).alias("Outcome"),
        _visit(r).alias("Visit"),
        pl.col("n").cast(pl.Utf8).alias("n"),
        _mean_sd().alias("Mean ± SD"),
        _median_iqr().alias("Median (Q1, Q3)"),
    )
    sheet = s.select(
        _labelled(s).alias("Outcome"),
        _visit(r).alias("Visit"),
        "n",
        *[pl.col(c).alias(n) for c, n in zip(_SUMMARY, _SUMMARY_NAMES, strict=True)],
        ROW_DECIMALS,
    )
    formats = {**_ints("n"), **_dp_columns(_SUMMARY_NAMES)}
    return ReportTable("per_visit", "Outcomes per visit", frame, _quartile_note(r), sheet, formats)


# the rows of each outcome in the median table, and the label of the P rows
_MEDIAN_ROWS = {"median": "", "p": "  P vs baseline", "holm": "  P (Holm)"}


def median_table(r: Results) -> ReportTable:
    """Outcomes as Lian 2022 reports them: median (Q1, Q3) at each visit, one column per visit,
    and under each outcome the Wilcoxon P against baseline (as the paper: unadjusted) and its
    Holm-adjusted value (the figures' marks)."""
    s = _with_decimals(r.summaries).filter(pl.col("n") > 0)
    total = int(r.meta["n_participants"])
    w = r.paired.filter((pl.col("method") != METHOD_T) & (pl.col("subgroup") == "all"))
    s = s.join(
        w.select("analyte", "visit_id", "p_value", "p_holm"),
        on=["analyte", "visit_id"],
        how="left",
    )
    names = visit_names(r.meta["visits"], r.meta.get("visit_labels"))
    visits = [v for v in r.meta["visits"] if v in set(s["visit_id"].to_list())]
    fewer = pl.when(pl.col("n") < total).then(pl.format("; n = {}", "n")).otherwise(pl.lit(""))
    cells = s.with_columns(
        (_median_iqr() + fewer).alias("median"),
        _p(pl.col("p_value")).alias("p"),
        _p(pl.col("p_holm")).alias("holm"),
    )
    rows = [  # three rows per outcome: medians, P, Holm-adjusted P
        cells.select(
            "analyte",
            pl.lit(what).alias("_row"),
            pl.col("visit_id").replace_strict(names, default=pl.col("visit_id")),
            pl.col(what).alias("cell"),
        )
        for what in _MEDIAN_ROWS
    ]
    long = pl.concat(rows)
    wide = long.pivot(on="visit_id", index=["analyte", "_row"], values="cell", maintain_order=True)
    order = {a: i for i, a in enumerate(r.meta["outcomes"])}
    kinds = {k: i for i, k in enumerate(_MEDIAN_ROWS)}
    wide = wide.sort(
        pl.col("analyte").replace_strict(order, default=len(order)),
        pl.col("_row").replace_strict(kinds),
    )
    outcome = pl.when(pl.col("_row") == "median").then(_labelled(wide))
    outcome = outcome.otherwise(pl.col("_row").replace_strict(_MEDIAN_ROWS, return_dtype=pl.Utf8))
    columns = [names.get(v, v) for v in visits]
    frame = wide.select(
        outcome.alias("Outcome"), *[pl.col(c).fill_null("") for c in columns if c in wide.columns]
    )
    sheet = s.select(
        _labelled(s).alias("Outcome"),
        _visit(r).alias("Visit"),
        "n",
        pl.col("median").alias("Median"),
        pl.col("q1").alias("Q1"),
        pl.col("q3").alias("Q3"),
        pl.col("p_value").alias("Wilcoxon P"),
        pl.col("p_holm").alias("Wilcoxon P (Holm)"),
        ROW_DECIMALS,
    )
    formats = {**_ints("n"), **_dp_columns(("Median", "Q1", "Q3"))}
    formats |= dict.fromkeys(("Wilcoxon P", "Wilcoxon P (Holm)"), P_FORMAT)
    note = (
        f"Median (Q1, Q3) of the participants with a value (n = {total} unless stated). P: "
        "Wilcoxon signed-rank test against baseline on the participants with both values, as "
        "Lian 2022 reports it; P (Holm): adjusted within each outcome over its follow-up visits. "
        + _quartile_note(r)
    )
    return ReportTable(
        "medians", "Outcomes per visit, median (Q1, Q3)", frame, note, sheet, formats
    )


_ALL, _DONE = "All with a value", "Completers"  # unpaired and paired column groups


def changes_table(r: Results) -> ReportTable:
    """Chin 2025 reports 6- and 12-month changes: for each follow-up visit the unpaired
    summaries (everyone with a value at baseline, everyone at the visit) beside the paired
    ones (completers: both values), each column saying which."""
    c = _with_decimals(r.changes)
    w = r.paired.filter(pl.col("subgroup") == "all").select(
        "analyte",
        "visit_id",
        pl.when(pl.col("method") == METHOD_T).then(pl.lit("t")).otherwise(pl.lit("w")).alias("m"),
        "p_value",
    )
    ps = w.pivot(on="m", index=["analyte", "visit_id"], values="p_value")
    for m in ("t", "w"):
        if m not in ps.columns:
            ps = ps.with_columns(pl.lit(None, pl.Float64).alias(m))
    c = c.join(ps, on=["analyte", "visit_id"], how="left", maintain_order="left")
    text = [
        _labelled(c).alias("Outcome"),
        _visit(r).alias("Visit"),
        pl.col("n_baseline").cast(pl.Utf8).alias(f"{_ALL}: baseline, n"),
        _mean_sd("baseline_mean", "baseline_sd").alias(f"{_ALL}: baseline, mean ± SD"),
        pl.col("n_visit").cast(pl.Utf8).alias(f"{_ALL}: at visit, n"),
        _mean_sd("visit_mean", "visit_sd").alias(f"{_ALL}: at visit, mean ± SD"),
        pl.col("n_pairs").cast(pl.Utf8).alias(f"{_DONE}, n"),
        _mean_sd("paired_baseline_mean", "paired_baseline_sd").alias(
            f"{_DONE}: baseline, mean ± SD"
        ),
        _mean_sd("paired_visit_mean", "paired_visit_sd").alias(f"{_DONE}: at visit, mean ± SD"),
        _mean_sd("change_mean", "change_sd").alias(f"{_DONE}: change, mean ± SD"),
        _p(pl.col("t")).alias("Paired t-test P"),
        _p(pl.col("w")).alias("Wilcoxon P"),
    ]
    numbers = {
        f"{_ALL}: baseline, n": "n_baseline",
        f"{_ALL}: baseline, mean": "baseline_mean",
        f"{_ALL}: baseline, SD": "baseline_sd",
        f"{_ALL}: at visit, n": "n_visit",
        f"{_ALL}: at visit, mean": "visit_mean",
        f"{_ALL}: at visit, SD": "visit_sd",
        f"{_DONE}, n": "n_pairs",
        f"{_DONE}: baseline, mean": "paired_baseline_mean",
        f"{_DONE}: baseline, SD": "paired_baseline_sd",
        f"{_DONE}: at visit, mean": "paired_visit_mean",
        f"{_DONE}: at visit, SD": "paired_visit_sd",
        f"{_DONE}: change, mean": "change_mean",
        f"{_DONE}: change, SD": "change_sd",
        "Paired t-test P": "t",
        "Wilcoxon P": "w",
    }
    sheet = c.select(
        _labelled(c).alias("Outcome"),
        _visit(r).alias("Visit"),
        *[pl.col(col).alias(name) for name, col in numbers.items()],
        ROW_DECIMALS,
    )
    formats = {
        n: (INT if n.endswith(", n") else P_FORMAT if n.endswith(" P") else DP) for n in numbers
    }
    note = (
        f"{_ALL} (unpaired): every participant with a value at baseline, and every participant "
        f"with a value at the visit; the two groups differ when participants miss visits. "
        f"{_DONE} (paired): the participants with a value at both baseline and the visit; the "
        "change and both P-values are theirs (unadjusted; Holm-adjusted values in the change "
        "table)."
    )
    title = "Change from baseline: all with a value (unpaired) and completers (paired)"
    return ReportTable("changes", title, c.select(text), note, sheet, formats)


_PAIRED_NOTE = (
    "HL: Hodges-Lehmann estimate of the median change with its 95% CI; P from the Wilcoxon "
    "signed-rank test (exact for at most 50 non-zero differences without ties, otherwise the "
    "normal approximation with tie correction; the test used for each row is in results.json). "
    "Mean change and P from the paired t-test. Holm: adjusted within each outcome over its "
    "follow-up visits. Change, %: 100 × mean change / baseline mean."
)


def paired_table(r: Results, frame: pl.DataFrame, key: str, title: str) -> ReportTable:
    if frame.height == 0:
        return _omitted(key, title, "No comparisons: the protocol ties no outcome to a subgroup.")
    w = frame.filter(pl.col("method") != METHOD_T)
    t = frame.filter(pl.col("method") == METHOD_T).select(
        "subgroup",
        "analyte",
        "visit_id",
        *[pl.col(c).alias(f"t_{c}") for c in ("estimate", "ci_low", "ci_high", "p_value")],
        pl.col("p_holm").alias("t_p_holm"),
    )
    out = w.join(t, on=["subgroup", "analyte", "visit_id"], how="left", maintain_order="left")
    out = _with_decimals(out)
    labels = dict(r.subgroup_membership.select("subgroup", "label").iter_rows())
    sub = pl.col("subgroup").replace_strict(labels, default=pl.col("subgroup"))
    reason = pl.col("reason").fill_null("")
    text = [
        _labelled(out).alias("Outcome"),
        _visit(r).alias("Visit"),
        pl.col("n_pairs").cast(pl.Utf8).alias("n pairs"),
        _est_ci().alias("HL median change (95% CI)"),
        _p(pl.col("p_value")).alias("Wilcoxon P"),
        _p(pl.col("p_holm")).alias("Wilcoxon P (Holm)"),
        _est_ci("t_estimate", "t_ci_low", "t_ci_high").alias("Mean change (95% CI)"),
        _p(pl.col("t_p_value")).alias("t-test P"),
        _p(pl.col("t_p_holm")).alias("t-test P (Holm)"),
        _fmt(pl.col("pct_change"), PERCENT_DECIMALS).alias("Change, %"),
    ]
    numbers = [
        _labelled(out).alias("Outcome"),
        _visit(r).alias("Visit"),
        pl.col("n_pairs").alias("n pairs"),
        pl.col("estimate").alias("HL median change"),
        pl.col("ci_low").alias("HL 95% CI low"),
        pl.col("ci_high").alias("HL 95% CI high"),
        pl.col("p_value").alias("Wilcoxon P"),
        pl.col("p_holm").alias("Wilcoxon P (Holm)"),
        pl.col("t_estimate").alias("Mean change"),
        pl.col("t_ci_low").alias("t 95% CI low"),
        pl.col("t_ci_high").alias("t 95% CI high"),
        pl.col("t_p_value").alias("t-test P"),
        pl.col("t_p_holm").alias("t-test P (Holm)"),
        pl.col("pct_change").alias("Change, %"),
    ]
    if (out["reason"].fill_null("") != "").any():  # a Note column only when a row has one
        text.append(reason.alias("Note"))
        numbers.append(reason.alias("Note"))
    if out["subgroup"].n_unique() > 1 or out["subgroup"][0] != "all":
        text.insert(0, sub.alias("Subgroup"))
        numbers.insert(0, sub.alias("Subgroup"))
    formats = {
        **_ints("n pairs"),
        **_dp_columns(("HL median change", "HL 95% CI low", "HL 95% CI high")),
        **_dp_columns(("Mean change", "t 95% CI low", "t 95% CI high")),
        **dict.fromkeys(("Wilcoxon P", "Wilcoxon P (Holm)", "t-test P", "t-test P (Holm)"), "p"),
        "Change, %": PCT,
    }
    formats = {k: (P_FORMAT if v == "p" else v) for k, v in formats.items()}
    sheet = out.select(*numbers, ROW_DECIMALS)
    return ReportTable(key, title, out.select(text), _PAIRED_NOTE, sheet, formats)


def completers_table(r: Results) -> ReportTable:
    c = r.completers
    key, title = "completers", "Completers and non-completers at baseline"
    if c.height == 0:
        return _omitted(key, title, "No participants, so no completers to compare.")
    last = visit_names([c["last_visit_id"][0]], r.meta.get("visit_labels"))
    last_name = next(iter(last.values()))
    done, not_done = int(c["total_completers"][0]), int(c["total_non_completers"][0])
    if not_done == 0 or done == 0:
        who = "All" if not_done == 0 else "None"
        return _omitted(
            key,
            title,
            f"{who} of the {done + not_done} participants had a value at the last visit "
            f"({last_name}): there are no {'non-' if not_done == 0 else ''}completers to compare.",
        )
    c = _with_decimals(c, "variable").with_columns(
        pl.when(pl.col("variable") == "sex (men)")
        .then(pl.lit(0, pl.Int64))
        .otherwise(pl.col(ROW_DECIMALS))
        .alias(ROW_DECIMALS)
    )
    men = pl.col("variable") == "sex (men)"
    name = pl.when(men).then(pl.lit("Men, n")).otherwise(_labelled(c, "variable"))
    test = pl.when(pl.col("method") == METHOD_FISHER).then(pl.lit("b")).otherwise(pl.lit("a"))
    frame = c.select(
        name.alias("Baseline variable"),
        pl.col("n_completers").cast(pl.Utf8).alias("n completers"),
        pl.col("n_non_completers").cast(pl.Utf8).alias("n non-completers"),
        _num(pl.col("completers")).alias("Completers"),
        _num(pl.col("non_completers")).alias("Non-completers"),
        pl.concat_str([_p(pl.col("p_value")), test], separator=" ").alias("P"),
    )
    sheet = c.select(
        name.alias("Baseline variable"),
        pl.col("n_completers").alias("n completers"),
        pl.col("n_non_completers").alias("n non-completers"),
        pl.col("completers").alias("Completers"),
        pl.col("non_completers").alias("Non-completers"),
        pl.col("p_value").alias("P"),
        test.alias("Test"),
        ROW_DECIMALS,
    )
    formats = {
        **_ints("n completers", "n non-completers"),
        **_dp_columns(("Completers", "Non-completers")),
        "P": P_FORMAT,
    }
    note = (
        f"Completers: {done} participants with a value at the last visit ({last_name}); "
        f"non-completers: {not_done}. Medians at baseline; for men, the number of men. "
        "a: Mann-Whitney U test; b: Fisher's exact test."
    )
    return ReportTable(key, title, frame, note, sheet, formats)


def mixed_table(r: Results) -> ReportTable:
    m = _with_decimals(r.mixed)
    reason = pl.col("reason").fill_null("")
    common = [_labelled(m).alias("Outcome"), _visit(r).alias("Visit")]
    text = [
        *common,
        pl.col("n_participants").cast(pl.Utf8).alias("Participants"),
        pl.col("n_observations").cast(pl.Utf8).alias("Observations"),
        _est_ci().alias("Estimated change (95% CI)"),
        _p(pl.col("p_value")).alias("P"),
    ]
    numbers = [
        *common,
        pl.col("n_participants").alias("Participants"),
        pl.col("n_observations").alias("Observations"),
        pl.col("estimate").alias("Estimated change"),
        pl.col("ci_low").alias("95% CI low"),
        pl.col("ci_high").alias("95% CI high"),
        pl.col("p_value").alias("P"),
    ]
    if m.height and (m["reason"].fill_null("") != "").any():
        text.append(reason.alias("Note"))
        numbers.append(reason.alias("Note"))
    formats = {
        **_ints("Participants", "Observations"),
        **_dp_columns(("Estimated change", "95% CI low", "95% CI high")),
        "P": P_FORMAT,
    }
    return ReportTable(
        "mixed",
        "Linear mixed models (all observed values)",
        m.select(text),
        r.meta["methods"]["mixed_model"],
        m.select(*numbers, ROW_DECIMALS),
        formats,
    )


def medication_table(r: Results) -> ReportTable:
    m = r.medication_categories.filter(pl.col("n") > 0)
    key, title = "medication", "Hypoglycaemic-agent dose change from baseline"
    if m.height == 0:
        return _omitted(key, title, "No medication records at the follow-up visits.")
    m = m.filter(pl.col("count") > 0)
    frame = m.select(
        _visit(r).alias("Visit"),
        pl.col("category").alias("Dose change vs baseline"),
        pl.col("n").cast(pl.Utf8).alias("n"),
        _pct_ci().alias("n (%) [95% CI]"),
    )
    sheet = m.select(
        _visit(r).alias("Visit"),
        pl.col("category").alias("Dose change vs baseline"),
        "n",
        pl.col("count").alias("Count"),
        pl.col("percent").alias("Percent"),
        (pl.col("ci_low") * 100).alias("95% CI low, %"),
        (pl.col("ci_high") * 100).alias("95% CI high, %"),
    )
    formats = {**_ints("n", "Count"), "Percent": PCT, "95% CI low, %": PCT}
    formats["95% CI high, %"] = PCT
    note = (
        "Total hypoglycaemic-agent dose as a sum of fractions of WHO defined daily doses; "
        "categories with no participant are not listed. 95% CI: Wilson."
    )
    return ReportTable(key, title, frame, note, sheet, formats)


# Doses per visit: 2 decimals (U/kg/day and DDD fractions of about 0.1 to 3).
_DOSE_DECIMALS = 2


def medication_dose_table(r: Results) -> ReportTable:
    """Insulin (U/kg/day), non-insulin agents and all agents (sums of DDD fractions) per
    visit, each among the participants taking it at baseline."""
    m = r.medication_doses.filter(pl.col("n") > 0).with_columns(
        pl.lit(_DOSE_DECIMALS).alias(ROW_DECIMALS)
    )
    key, title = "medication_doses", "Hypoglycaemic-agent doses per visit"
    if m.height == 0:
        return _omitted(key, title, "No participant took a catalogued agent at baseline.")
    common = [pl.col("label").alias("Dose"), _visit(r).alias("Visit")]
    frame = m.select(
        *common,
        pl.col("n").cast(pl.Utf8).alias("n"),
        _mean_sd().alias("Mean ± SD"),
        _median_iqr().alias("Median (Q1, Q3)"),
    )
    sheet = m.select(
        *common,
        "n",
        *[pl.col(c).alias(n) for c, n in zip(_SUMMARY, _SUMMARY_NAMES, strict=True)],
        ROW_DECIMALS,
    )
    formats = {**_ints("n"), **_dp_columns(_SUMMARY_NAMES)}
    note = r.meta["methods"]["medication"] + " " + _quartile_note(r)
    return ReportTable(key, title, frame, note, sheet, formats)


def ae_tables(r: Results) -> list[ReportTable]:
    o = r.ae_overall
    overall = ReportTable(
        "ae_overall",
        "Adverse events",
        o.select(
            pl.col("participants").cast(pl.Utf8).alias("Participants"),
            _pct_ci().alias("With any AE, n (%) [95% CI]"),
            pl.col("events").cast(pl.Utf8).alias("Events"),
            pl.col("serious").cast(pl.Utf8).alias("Serious"),
            pl.col("infusions").cast(pl.Utf8).alias("Infusions"),
            _fmt(pl.col("events_per_infusion"), 3).alias("Events per infusion"),
        ),
        "95% CI: Wilson.",
        o.select(
            pl.col("participants").alias("Participants"),
            pl.col("count").alias("With any AE"),
            pl.col("percent").alias("Percent"),
            pl.col("events").alias("Events"),
            pl.col("serious").alias("Serious"),
            pl.col("infusions").alias("Infusions"),
            pl.col("events_per_infusion").alias("Events per infusion"),
        ),
        {**_ints("Participants", "With any AE", "Events", "Serious", "Infusions"), "Percent": PCT}
        | {"Events per infusion": "0.000"},
    )
    return [overall, *_ae_detail_tables(r)]


def _ae_detail_tables(r: Results) -> list[ReportTable]:
    none = "No adverse events were recorded."
    t, i, h = r.ae_by_term, r.ae_by_infusion, r.ae_by_time
    if r.ae_overall["events"].sum() == 0:
        return [
            _omitted("ae_term", "Adverse events by term", none),
            _omitted("ae_infusion", "Adverse events by infusion number", none),
            _omitted("ae_term_infusion", "Adverse events by term and infusion", none),
            _omitted("ae_time", "Adverse events by time after infusion", none),
        ]
    return [
        ReportTable(
            "ae_term",
            "Adverse events by term",
            t.select(
                pl.col("term").alias("Term"),
                pl.col("events").cast(pl.Utf8).alias("Events"),
                _pct_ci().alias("Participants, n (%) [95% CI]"),
            ),
            "95% CI: Wilson.",
            t.select(
                pl.col("term").alias("Term"),
                pl.col("events").alias("Events"),
                pl.col("count").alias("Participants"),
                pl.col("percent").alias("Percent"),
            ),
            {**_ints("Events", "Participants"), "Percent": PCT},
        ),
        ReportTable(
            "ae_infusion",
            "Adverse events by infusion number",
            i.select(
                pl.col("infusion_number").cast(pl.Utf8).alias("Infusion"),
                pl.col("infusions").cast(pl.Utf8).alias("Given"),
                pl.col("events").cast(pl.Utf8).alias("Events"),
                _fmt(pl.col("events_per_infusion"), 3).alias("Events per infusion"),
            ),
            "",
            i.select(
                pl.col("infusion_number").alias("Infusion"),
                pl.col("infusions").alias("Given"),
                pl.col("events").alias("Events"),
                pl.col("events_per_infusion").alias("Events per infusion"),
            ),
            {**_ints("Infusion", "Given", "Events"), "Events per infusion": "0.000"},
        ),
        ae_term_infusion_table(r),
        ReportTable(
            "ae_time",
            "Adverse events by time after infusion",
            h.select(
                pl.col("time_after_infusion").alias("Onset after infusion"),
                pl.col("events").cast(pl.Utf8).alias("Events"),
            ),
            "",
            h.select(
                pl.col("time_after_infusion").alias("Onset after infusion"),
                pl.col("events").alias("Events"),
            ),
            _ints("Events"),
        ),
    ]


_NOT_ATTRIBUTED = "Not attributed"


def ae_term_infusion_table(r: Results) -> ReportTable:
    """Lian 2022 safety layout: each term's events (participants) after each infusion number,
    the events outside any attribution, and the total."""
    ti = r.ae_by_term_infusion
    given = ti.filter(pl.col("infusion_number").is_not_null()).group_by("infusion_number")
    given = given.agg(pl.col("infusions").first()).sort("infusion_number")
    heads = {
        n: f"Infusion {n} (n = {g})" for n, g in given.select("infusion_number", "infusions").rows()
    }
    cell = pl.format("{} ({})", "events", "participants")
    attributed = ti.filter(pl.col("infusion_number").is_not_null()).with_columns(
        pl.col("infusion_number").replace_strict(heads, return_dtype=pl.Utf8).alias("_column")
    )
    unattributed = ti.filter(pl.col("infusion_number").is_null())
    unattributed = unattributed.group_by("term").agg(pl.col("events").sum().alias("_na"))
    total = r.ae_events.group_by("term").agg(
        pl.len().alias("events"), pl.col("participant_id").n_unique().alias("participants")
    )
    wide = ti.select("term").unique(maintain_order=True)
    if attributed.height:  # no infusion given: only the not-attributed and total columns
        cells = attributed.select("term", "_column", cell.alias("cell"))
        pivot = cells.pivot(on="_column", index="term", values="cell", maintain_order=True)
        wide = wide.join(pivot, on="term", how="left", maintain_order="left", nulls_equal=True)
    wide = (
        wide.join(unattributed, on="term", how="left", maintain_order="left")
        .join(total.select("term", cell.alias("Total")), on="term", how="left")
        .with_columns(pl.col("_na").fill_null(0).cast(pl.Utf8).alias(_NOT_ATTRIBUTED))
    )
    frame = wide.rename({"term": "Term"}).select("Term", *heads.values(), _NOT_ATTRIBUTED, "Total")
    sheet = ti.select(
        pl.col("term").alias("Term"),
        pl.col("attribution").alias("Attribution"),
        pl.col("infusion_number").alias("Infusion"),
        pl.col("infusions").alias("Given"),
        pl.col("events").alias("Events"),
        pl.col("participants").alias("Participants"),
        pl.col("window_h").alias("Window, h"),
    )
    windows = "; ".join(f"{t}: {h:g} h" for t, h in ATTRIBUTION_WINDOW_H.items())
    note = (
        "Events (participants) per infusion number; n: infusions given. An event belongs to its "
        "recorded infusion, else to the latest infusion before onset, and is attributed to it "
        f"when it began within the term's window ({windows}; Lian 2022) or, for other terms, "
        f"before the next infusion. {_NOT_ATTRIBUTED}: events after the window or before the "
        "first infusion. Terms normalised (case, blanks, synonyms such as pyrexia = fever)."
    )
    formats = _ints("Infusion", "Given", "Events", "Participants")
    return ReportTable(
        "ae_term_infusion", "Adverse events by term and infusion", frame, note, sheet, formats
    )


def missing_table(r: Results) -> ReportTable:
    m = r.missing_summary
    common = [_labelled(m).alias("Outcome"), _visit(r).alias("Visit")]
    counts = ("Expected", "Observed", "Missing")
    frame = m.select(
        *common,
        *[pl.col(c.lower()).cast(pl.Utf8).alias(c) for c in counts],
        _fmt(pl.col("pct_missing"), PERCENT_DECIMALS).alias("Missing, %"),
    )
    sheet = m.select(
        *common,
        *[pl.col(c.lower()).alias(c) for c in counts],
        pl.col("pct_missing").alias("Missing, %"),
    )
    note = (
        "Expected: enrolled participants, at the visits the protocol schedules the outcome for "
        "(an outcome without a schedule: the visits where the study has any value of it); "
        "for a sex-specific analyte, only the participants recorded as that sex "
        f"({_sex_specific_phrase()})."
    )
    return ReportTable(
        "missing", "Missing data", frame, note, sheet, {**_ints(*counts), "Missing, %": PCT}
    )


def follow_up_table(r: Results) -> ReportTable:
    """The long-term safety follow-up at the protocol's extension visits (not the paper's)."""
    f = _with_decimals(r.follow_up)
    visit = _visit(r).alias("Visit")  # extension ids are not in meta's visits: shown as ids
    yes = pl.col("n_yes").cast(pl.Utf8).fill_null("").alias("Yes answers")
    frame = f.select(
        _labelled(f).alias("Measure"),
        visit,
        pl.col("n").cast(pl.Utf8).alias("n"),
        _median_iqr().alias("Median (Q1, Q3)"),
        yes,
    )
    sheet = f.select(
        _labelled(f).alias("Measure"),
        visit,
        "n",
        pl.col("median").alias("Median"),
        pl.col("q1").alias("Q1"),
        pl.col("q3").alias("Q3"),
        pl.col("n_yes").alias("Yes answers"),
    )
    note = (
        "Extension visits added to the published schedule (the protocol's long-term safety "
        "follow-up); not the paper's visits and not in its outcome analyses. Yes answers: "
        "yes/no questions (new malignancy since the last visit), 1 = yes."
    )
    title = "Long-term safety follow-up (extension visits)"
    return ReportTable("follow_up", title, frame, note, sheet, _ints("n", "Yes answers"))


def _sex_specific_phrase() -> str:
    """ "testosterone: men; estradiol: women", from the catalogue's sex flags."""
    who = {"M": "men", "F": "women"}
    return "; ".join(f"{ANALYTES[a].name.lower()}: {who[s]}" for a, s in SEX_SPECIFIC.items())


def report_tables(r: Results) -> list[ReportTable]:
    """Every table of the report, in order; the ones with rows numbered Table 1, 2, ..."""
    tables = [
        baseline_table(r),
        median_table(r),
        summaries_table(r),
        changes_table(r),
        paired_table(r, r.paired, "paired", "Change from baseline"),
        paired_table(r, r.subgroup_paired, "subgroups", "Change from baseline in subgroups"),
        completers_table(r),
        mixed_table(r),
        medication_table(r),
        medication_dose_table(r),
        *ae_tables(r),
        missing_table(r),
        # only with values at extension visits: a study without them reads as before
        *([follow_up_table(r)] if r.follow_up.height else []),
    ]
    numbered, k = [], 0
    for t in tables:  # one step per table
        if not t.omitted:
            k += 1
            t = replace(t, title=f"Table {k}. {t.title}")
        numbered.append(t)
    return numbered
