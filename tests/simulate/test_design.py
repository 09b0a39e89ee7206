"""Design files: validation naming file and key, dropout by the endpoint day, parameter draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from celltrial.simulate.allocation import msc_pattern
from celltrial.simulate.design import (
    DesignError,
    Stratum,
    Uncertainty,
    design_preset,
    design_protocol,
    load_design,
    parameter_draws,
)
from celltrial.simulate.preset import get_parameter
from celltrial.simulate.virtual_trials import simulate_trials

EXAMPLE = Path(__file__).parents[2] / "examples" / "designs" / "zang-hba1c-ancova.yaml"


def test_dropout_loses_the_stated_share_by_the_endpoint_visit():
    design = load_design(EXAMPLE)  # dropout 0.10 by week 48
    protocol = design_protocol(design)
    preset = design_preset(design, protocol.visit("w48").target_day)
    sim = simulate_trials(preset, 40, 100, 1, protocol=protocol, msc_arm=msc_pattern(100, 0.5))
    seen = sim.observed()[sim.design.visit_ids.index("w48")].mean()
    # 4000 patients: binomial SE 0.005; the +-14-day visit window moves the share < 0.005
    assert seen == pytest.approx(0.90, abs=0.02)


def test_parameter_draws_centre_on_the_preset_and_respect_the_clip():
    design = load_design(EXAMPLE)
    preset = design_preset(design, 336)
    unc = Uncertainty(draws=400, parameters={"msc.emax_s": {"sd": 0.4, "min": 2.3}})
    z = np.random.default_rng(0).standard_normal((400, 1))
    values = np.array([get_parameter(p, "msc.emax_s") for p in parameter_draws(preset, unc, z)])
    centre = get_parameter(preset, "msc.emax_s")
    expected = np.maximum(centre + 0.4 * z[:, 0], 2.3)
    np.testing.assert_allclose(values, expected)
    assert values.min() == 2.3


def test_banded_stratum_names_and_bad_strata():
    assert Stratum(id="b", analyte="hba1c", cuts=[8.0, 9.5]).names == ["<8", "8-<9.5", ">=9.5"]
    with pytest.raises(ValueError, match="either levels or analyte"):
        Stratum(id="x", levels=["a"], analyte="hba1c", cuts=[8.0])
    with pytest.raises(ValueError, match="increasing"):
        Stratum(id="x", analyte="hba1c", cuts=[9.0, 8.0])


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("msc.emax_s: {sd", "msc.emax_z: {sd", "uncertainty.parameters: 'msc.emax_z'"),
        ("preset: zang2022", "preset: nope", "preset/protocol: unknown preset 'nope'"),
        ("{id: placebo, msc: false", "{id: placebo, msc: true", "arms: one UC-MSC arm"),
        ("dropout: 0.10", "dropout: 1.5", "dropout: Input should be less than 1"),
        ("kind: hba1c_change_ancova", "kind: median", "endpoint.kind"),
    ],
)
def test_bad_design_names_file_and_key(tmp_path, old, new, message):
    text = EXAMPLE.read_text()
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(DesignError, match=message.replace("(", r"\(")) as info:
        load_design(bad)
    assert str(info.value).startswith(f"{bad}: ")
