import polars as pl
import pytest

from celltrial.analysis.study import resolve_plan
from celltrial.analysis.values import _has_repeats, visit_values


def test_repeated_draws_are_averaged_and_single_ones_kept(study) -> None:
    m = study.measurements
    first = m.filter((pl.col("analyte") == "fpg") & (pl.col("visit_id") == "d14")).head(1)
    again = first.with_columns(pl.col("value") + 1.0)  # a second draw, 1 mmol/L higher
    plan = resolve_plan(study, "lian2022")
    plain = visit_values(study, plan)
    twice = visit_values(study.with_table("measurements", pl.concat([m, again])), plan)
    assert twice.height == plain.height  # still one value per participant, visit, analyte
    key = first.select("participant_id", "visit_id", "analyte")
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
