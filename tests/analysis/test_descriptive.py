import numpy as np
import polars as pl
import pytest

from celltrial.analysis.descriptive import summarize, summarize_per_visit


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16, 33])
def test_quartiles_match_numpy_weibull_type6(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(8, 2, n)
    out = summarize(pl.DataFrame({"g": ["a"] * n, "value": x}), ["g"]).row(0, named=True)
    # NumPy's "weibull" method is Hyndman & Fan type 6, SPSS's default.
    for p, key in [(0.25, "q1"), (0.5, "median"), (0.75, "q3")]:
        assert out[key] == pytest.approx(np.quantile(x, p, method="weibull"))
    assert out["mean"] == pytest.approx(x.mean())
    if n > 1:
        assert out["sd"] == pytest.approx(x.std(ddof=1))
    assert out["n"] == n


def test_type6_quartiles_by_hand() -> None:
    # x = 1..8: h = 9 * 0.25 = 2.25 -> 2 + 0.25 * (3 - 2) = 2.25; Q3: h = 6.75 -> 6.75
    out = summarize(pl.DataFrame({"g": ["a"] * 8, "value": np.arange(1.0, 9)}), ["g"])
    assert out["q1"][0] == pytest.approx(2.25)
    assert out["q3"][0] == pytest.approx(6.75)


def test_per_visit_grid_keeps_unattended_visit() -> None:
    values = pl.DataFrame(
        {
            "participant_id": ["p1", "p2", "p1"],
            "analyte": ["fpg", "fpg", "fpg"],
            "visit_id": ["d0", "d0", "d28"],
            "value": [9.0, 10.0, 7.0],
        }
    )
    out = summarize_per_visit(values, ["fpg"], ["d0", "d28", "d84"])
    assert out["visit_id"].to_list() == ["d0", "d28", "d84"]
    assert out["n"].to_list() == [2, 1, 0]
    assert out["mean"][0] == pytest.approx(9.5)
    assert out["reason"][2] == "no values"
    assert out["reason"][1].startswith("n = 1")
