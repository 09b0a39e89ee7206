import polars as pl
import pytest

from celltrial.analysis.study import resolve_plan
from celltrial.analysis.values import _has_repeats, as_keys, visit_values


def test_repeated_draws_are_averaged_and_single_ones_kept(study) -> None:
    m = study.measurements
    first = m.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d14")).head(1)
    again = first.with_columns(pl.col("value") + 1.0)  # a second draw, 1 mmol/L higher
    plan = resolve_plan(study, "lian2022")
    plain = visit_values(study, plan)
    twice = visit_values(study.with_table("measurements", pl.concat([m, again])), plan)
    assert twice.height == plain.height  # still one value per participant, visit, analyte
    key = as_keys(first.select("participant_id", "visit_id", "analyte"))
    assert plain.schema["participant_id"] == pl.Categorical  # keys hashed once, as codes
    before = plain.join(key, on=key.columns)["value"][0]
    after = twice.join(key, on=key.columns)["value"][0]
    assert after == pytest.approx(before + 0.5)  # mean of x and x + 1
    assert plain.sort(plain.columns).equals(
        twice.filter(pl.struct(key.columns).is_in(key.to_struct().implode()).not_())
        .vstack(plain.join(key, on=key.columns))
        .sort(plain.columns)
    )


def test_has_repeats_on_integer_codes() -> None:
    frame = pl.DataFrame(
        {"participant_id": ["a", "a", "b"], "visit_id": ["v1", "v2", "v1"], "analyte": "x"}
    ).with_columns(pl.lit(1.0).alias("value"))
    assert not _has_repeats(frame)
    assert _has_repeats(pl.concat([frame, frame.tail(1)]))
    # same strings in other columns do not make a repeat: ("a","v1","x") vs ("v1","a","x")
    swapped = pl.DataFrame(
        {"participant_id": ["a", "v1"], "visit_id": ["v1", "a"], "analyte": ["x", "x"]}
    ).with_columns(pl.lit(1.0).alias("value"))
    assert not _has_repeats(swapped)


def test_has_repeats_when_the_key_table_would_be_sparse() -> None:
    # 4 rows, 4 distinct values in each key column: 64 cells > 8 per row, so the combined key
    # is hashed instead of tabled; the answer must not change
    frame = pl.DataFrame(
        {"participant_id": list("abcd"), "visit_id": list("efgh"), "analyte": list("ijkl")}
    ).with_columns(pl.lit(1.0).alias("value"))
    assert not _has_repeats(frame)
    assert _has_repeats(pl.concat([frame, frame.slice(2, 1)]))


def test_missing_counts_only_enrolled_participants(study) -> None:
    from celltrial.analysis.missing import missing_summary, missing_values

    plan = resolve_plan(study, "lian2022")
    values = visit_values(study, plan)
    # a stranger's value (not in participants) and P03's fpg at d84 removed
    stranger = values.filter(pl.col("participant_id") == "P05").with_columns(
        pl.lit("X99").cast(pl.Categorical).alias("participant_id")
    )
    gone = (pl.col("participant_id") == "P03") & (pl.col("analyte") == "fpg")
    values = pl.concat([stranger, values.filter(~(gone & (pl.col("visit_id") == "d84")))])
    people = study.participants.sort("participant_id", descending=True)  # order must not matter
    s = missing_summary(people, values, plan)
    row = s.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d84")).row(0, named=True)
    n = study.participants.height
    assert (row["expected"], row["observed"], row["missing"]) == (n, n - 1, 1)
    assert row["pct_missing"] == pytest.approx(100 / n)
    who = missing_values(people, values, plan).filter(pl.col("analyte") == "fpg")
    assert who.select("participant_id", "analyte", "visit_id").rows() == [("P03", "fpg", "d84")]


def test_rows_without_participant_or_analyte_are_left_out(study) -> None:
    plan = resolve_plan(study, "lian2022")
    m = study.measurements
    row = m.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d14")).head(1)
    stray = pl.concat(
        [
            row.with_columns(pl.lit(None, pl.Utf8).alias("participant_id")),
            row.with_columns(pl.lit(None, pl.Utf8).alias("analyte")),
        ]
    )
    plain = visit_values(study, plan)
    with_stray = visit_values(study.with_table("measurements", pl.concat([m, stray])), plan)
    assert with_stray.sort(with_stray.columns).equals(plain.sort(plain.columns))


def test_positions_of_null_and_unknown_values_are_past_the_names() -> None:
    from celltrial.analysis.values import positions

    column = pl.Series(["b", None, "zz", "a", "b"], dtype=pl.Categorical)
    assert positions(column, ["a", "b"]).tolist() == [1, 2, 2, 0, 1]
