"""Randomization lists: balanced blocks of random size per stratum, reproducible, sealed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.simulate.design import TrialDesign, load_design
from celltrial.simulate.randomization import list_bytes, randomization_list, verify_list

_register()
runner = CliRunner()
DESIGN = Path(__file__).parents[2] / "examples" / "designs" / "zang-hba1c-ancova.yaml"


def _design(msc: int, pbo: int, multiples: list[int]) -> TrialDesign:
    d = load_design(DESIGN)
    arms = [
        d.arms[0].model_copy(update={"ratio": msc}),
        d.arms[1].model_copy(update={"ratio": pbo}),
    ]
    rand = d.randomization.model_copy(update={"block_multiples": multiples})
    return d.model_copy(update={"arms": arms, "randomization": rand})


@settings(max_examples=40, deadline=None)
@given(
    msc=st.integers(1, 3),
    pbo=st.integers(1, 3),
    multiples=st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True),
    n=st.integers(1, 60),
    seed=st.integers(0, 2**32),
)
def test_every_block_is_balanced_and_every_stratum_long_enough(msc, pbo, multiples, n, seed):
    d = _design(msc, pbo, multiples)
    frame = randomization_list(d, seed, n)
    per_block = frame.group_by("stratum", "block").agg(
        (pl.col("arm") == "UC-MSC").sum().alias("msc"),
        (pl.col("arm") == "placebo").sum().alias("pbo"),
        pl.col("block_size").first(),
        pl.len(),
    )
    cycle = msc + pbo
    assert (per_block["len"] == per_block["block_size"]).all()
    m = per_block["block_size"] // cycle
    assert (per_block["block_size"] % cycle == 0).all()
    assert set(m.to_list()) <= set(multiples)
    # m complete cycles: m.ratio of each arm in every block
    assert (per_block["msc"] == m * msc).all() and (per_block["pbo"] == m * pbo).all()
    lengths = frame.group_by("stratum").len()["len"]
    assert lengths.len() == 6  # 3 sites x 2 HbA1c bands
    assert (lengths >= n).all() and (lengths < n + max(multiples) * cycle).all()


def test_block_sizes_vary_and_the_list_depends_on_the_seed():
    d = load_design(DESIGN)
    a = randomization_list(d, 1, 200)
    assert a["block_size"].n_unique() == 3  # 2, 4 and 6 all drawn
    assert list_bytes(a) == list_bytes(randomization_list(d, 1, 200))
    assert list_bytes(a) != list_bytes(randomization_list(d, 2, 200))


def test_cli_list_verifies_and_an_edited_list_is_caught(tmp_path):
    out = tmp_path / "list.csv"
    res = runner.invoke(
        app, ["randomize", str(DESIGN), "--seed", "9", "--n", "12", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    side = (tmp_path / "list.csv.json").read_text()
    assert '"seed": 9' in side and '"list_sha256"' in side
    res = runner.invoke(app, ["randomize", str(DESIGN), "--verify", str(out)])
    assert res.exit_code == 0 and "verified" in res.output
    lines = out.read_text().splitlines()
    row = lines[3].split(",")
    row[-1] = "placebo" if row[-1] == "UC-MSC" else "UC-MSC"  # swap one allocation
    lines[3] = ",".join(row)
    out.write_text("\n".join(lines) + "\n")
    problems = verify_list(load_design(DESIGN), DESIGN.read_bytes(), out)
    assert any("SHA-256" in p and "edited" in p for p in problems)
    assert any("row 4" in p and "sequence 3" in p for p in problems)
    res = runner.invoke(app, ["randomize", str(DESIGN), "--verify", str(out)])
    assert res.exit_code == 1


def test_cli_without_seed_exits_2(tmp_path):
    res = runner.invoke(app, ["randomize", str(DESIGN), "--n", "12", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
