"""Members against non-members from one shared ranking per group, against SciPy per split."""

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from celltrial.analysis.groups import METHOD_MWU, METHOD_MWU_EXACT
from celltrial.analysis.paired import pair_with_baseline
from celltrial.analysis.study import resolve_plan, visit_values
from celltrial.analysis.subgroups import change_between_groups, compare_members, rank_changes
from celltrial.analysis.values import as_keys
from celltrial.clinical.precision import decimals

ANALYTES = ["fpg", "hba1c", "fcp"]
VISITS = ["d14", "d28"]


def _reference(d: np.ndarray, inside: np.ndarray, analyte: str, convention: str = "spss") -> dict:
    """One split tested directly with scipy.stats.mannwhitneyu and np.median, on the changes
    rounded to the analyte's reporting precision: SPSS's asymptotic test without continuity
    correction, or under "exact" the exact test for at most 50 untied values."""
    d = np.round(d, decimals(analyte))
    x, y = d[inside], d[~inside]
    xs, ys = x[~np.isnan(x)], y[~np.isnan(y)]
    both = np.concatenate([xs, ys])
    exact = convention == "exact" and len(np.unique(both)) == len(both) <= 50
    out = {
        "n_in": len(xs),
        "n_out": len(ys),
        "median_change_in": float(np.median(x)) if len(x) else None,
        "median_change_out": float(np.median(y)) if len(y) else None,
        "statistic": None,
        "p_value": None,
    }
    if len(xs) and len(ys) and np.ptp(both) != 0:
        method = "exact" if exact else "asymptotic"
        ref = stats.mannwhitneyu(xs, ys, method=method, use_continuity=False)
        out["statistic"], out["p_value"] = float(ref.statistic), float(ref.pvalue)
        out["method"] = METHOD_MWU_EXACT if exact else METHOD_MWU
    return out


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a == b or (np.isnan(a) and np.isnan(b)))


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(ANALYTES[:2]),  # fcp never occurs: an asked-for analyte with no group
        st.sampled_from(VISITS),
        st.one_of(
            st.integers(-4, 4).map(lambda k: k / 4),  # few values: many ties
            st.floats(-1e3, 1e3),  # medians of arbitrary floats, as np.median rounds them
            st.sampled_from([np.inf, -np.inf]),
        ),
        st.booleans(),  # member
        st.integers(0, 30),  # 0: NaN change
    ),
    min_size=0,
    max_size=80,
)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf in medians
@settings(max_examples=150, deadline=None)
@given(rows_strategy, st.sampled_from(["all", "none", "mixed"]), st.sampled_from(["spss", "exact"]))
def test_compare_members_equals_scipy_per_split(
    rows: list[tuple], split: str, convention: str
) -> None:
    d = np.array([r[2] if r[4] else np.nan for r in rows], dtype=float)
    member = np.array([r[3] for r in rows], dtype=bool)
    if split != "mixed":  # one side of every split empty
        member[:] = split == "all"
    pairs = as_keys(
        pl.DataFrame(
            {
                "analyte": [r[0] for r in rows],
                "visit_id": [r[1] for r in rows],
                "d": d,
            },
            schema={"analyte": pl.Utf8, "visit_id": pl.Utf8, "d": pl.Float64},
        )
    )
    got = compare_members(rank_changes(pairs), member, ANALYTES, "s", convention)
    keys = list(dict.fromkeys((r[0], r[1]) for r in rows))  # groups in order of appearance
    assert [(g["analyte"], g["visit_id"]) for g in got] == keys
    for g, key in zip(got, keys, strict=True):
        at = np.array([(r[0], r[1]) == key for r in rows], dtype=bool)
        ref = _reference(d[at], member[at], key[0], convention)
        assert g["subgroup"] == "s" and g["method"] == ref.pop("method", METHOD_MWU)
        for col, value in ref.items():
            assert _same(g[col], value), (col, g[col], value)


def test_change_between_groups_matches_scipy_on_a_study(study_factory) -> None:
    study = study_factory(n=40)
    plan = resolve_plan(study)
    values = visit_values(study, plan)
    out = change_between_groups(study, values, plan)
    pairs = pair_with_baseline(values, plan.baseline_visit).with_columns(
        pl.col("analyte", "visit_id", "participant_id").cast(pl.Utf8)
    )
    men = study.participants.filter(pl.col("sex") == "M")["participant_id"].to_list()
    checked = 0
    for r in out.filter(pl.col("subgroup") == "men").iter_rows(named=True):
        at = pairs.filter(
            (pl.col("analyte") == r["analyte"]) & (pl.col("visit_id") == r["visit_id"])
        )
        ref = _reference(
            at["d"].to_numpy(), at["participant_id"].is_in(men).to_numpy(), r["analyte"]
        )
        assert all(_same(r[c], v) for c, v in ref.items())
        checked += r["p_value"] is not None
    assert checked > 0


def test_completers_take_text_keys_as_well_as_categorical(study) -> None:
    from celltrial.analysis.subgroups import completers
    from celltrial.analysis.values import as_text

    plan = resolve_plan(study, "lian2022")
    values = visit_values(study, plan)
    assert completers(study, as_text(values), plan).equals(completers(study, values, plan))


def test_float_noise_does_not_break_a_tie_between_groups() -> None:
    # a member's change 8.3 - 8.2 = 0.10000000000000142 and a non-member's 7.1 - 7.0 =
    # 0.09999999999999964 are both 0.1 mmol/L as recorded (fpg: 2 decimals): they tie
    d = np.array([8.3 - 8.2, -0.4, 0.35, 7.1 - 7.0, -0.2, 0.6, 0.9])
    member = np.array([True, True, True, False, False, False, False])
    pairs = as_keys(
        pl.DataFrame({"analyte": ["fpg"] * 7, "visit_id": ["d14"] * 7, "d": d}),
    )
    (got,) = compare_members(rank_changes(pairs), member, ["fpg"], "s")
    recorded = np.array([0.1, -0.4, 0.35, 0.1, -0.2, 0.6, 0.9])
    # ranks: -0.4 -> 1, -0.2 -> 2, 0.1 0.1 -> 3.5 3.5, 0.35 -> 5, 0.6 -> 6, 0.9 -> 7
    # members 3.5 + 1 + 5 = 9.5: U = 9.5 - 3 x 4 / 2 = 3.5 (untied ranks would give U = 3 or 4)
    assert got["statistic"] == 3.5
    ref = stats.mannwhitneyu(recorded[:3], recorded[3:], method="asymptotic", use_continuity=False)
    assert got["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
