"""Expected response of one candidate: conditioning on the virtual population."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.simulate.expect import (
    Candidate,
    ExpectError,
    _weighted_quantiles,
    expected_response,
)
from celltrial.simulate.preset import load_preset

_register()
runner = CliRunner()
N = 40000


@pytest.fixture(scope="module")
def zang():
    return load_preset("zang2022")


@pytest.fixture(scope="module")
def population(zang):
    return expected_response(zang, Candidate(), N, 0)


def test_weighted_quantiles_with_equal_weights_are_type_5():
    x = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6])
    q = (0.1, 0.25, 0.5, 0.9)
    ref = np.quantile(x, q, method="interpolated_inverted_cdf")  # Hyndman & Fan type 4
    ref5 = np.quantile(x, q, method="hazen")  # type 5: (k - 0.5)/n
    np.testing.assert_allclose(_weighted_quantiles(x, np.ones(6), q), ref5)
    assert not np.allclose(ref, ref5)  # the two definitions differ here: the test can fail


def test_nothing_given_is_the_whole_population(population):
    assert population.n_matching == N and population.ess == pytest.approx(N)


def test_patient_at_the_population_mean_gets_the_population_mean(zang, population):
    c = Candidate(age=50.0, hba1c=population.baseline_hba1c)  # preset age mean 50
    e = expected_response(zang, c, N, 1)  # another seed: independent virtual patients
    for m, pop in zip(e.months, population.months, strict=True):
        # Monte-Carlo SE of a weighted mean ~ SD / sqrt(ESS); SD from the population's IQR
        sd = (pop.quantiles["75%"] - pop.quantiles["25%"]) / 1.349
        assert abs(m.mean - pop.mean) < 4 * sd / np.sqrt(e.ess), m.month
        assert abs(m.p_below_7 - pop.p_below_7) < 4 * np.sqrt(0.25 / e.ess)


def test_higher_baseline_hba1c_gives_a_larger_expected_fall(zang):
    low = expected_response(zang, Candidate(hba1c=8.0), N, 2)
    high = expected_response(zang, Candidate(hba1c=10.5), N, 2)
    assert low.baseline_hba1c == pytest.approx(8.0, abs=0.15)
    assert high.baseline_hba1c == pytest.approx(10.5, abs=0.15)
    for lo, hi in zip(low.months, high.months, strict=True):
        assert high.baseline_hba1c - hi.mean > low.baseline_hba1c - lo.mean + 0.3
        assert hi.p_below_7 < lo.p_below_7


def test_rejection_keeps_only_matching_sex_and_drug(zang):
    e = expected_response(zang, Candidate(sex="F", drugs=["acarbose"]), N, 3)
    # preset: 40 % women, 30 % on acarbose, drawn independently
    assert e.n_matching / N == pytest.approx(0.4 * 0.3, abs=0.02)


@pytest.mark.parametrize(
    "candidate,message",
    [
        (Candidate(hba1c=30.0), "--hba1c 30: outside the plausible range 4-16 %"),
        (Candidate(sex="X"), "--sex 'X'"),
        (Candidate(drugs=["insulin glargine"]), "not in the regimen of preset zang2022"),
        (Candidate(insulin_u_per_kg=-1), "--insulin-u-per-kg -1"),
    ],
)
def test_bad_values_are_named(zang, candidate, message):
    with pytest.raises(ExpectError, match=message.replace("(", r"\(").replace("+", r"\+")):
        expected_response(zang, candidate, 2000, 0)


def test_cli_prints_months_and_caveat_and_json():
    args = ["expect", "--preset", "zang2022", "--hba1c", "9", "--age", "55", "--sex", "M"]
    res = runner.invoke(app, [*args, "--n-virtual", "20000"])
    assert res.exit_code == 0, res.output
    assert "caveat" in res.output and "small studies" in res.output
    res = runner.invoke(app, [*args, "--n-virtual", "20000", "--json"])
    data = json.loads(res.output)
    assert [m["month"] for m in data["months"]] == [3, 6, 12]
    res = runner.invoke(app, ["expect", "--preset", "zang2022", "--fpg", "0"])
    assert res.exit_code == 2 and "--fpg 0" in res.output
