"""Figures: every outcome of the plan drawn (issue 10: HOMA-B had no trajectory panel)."""

import pytest

from celltrial.analysis import analyze_study
from celltrial.report.figures import write_figures
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    study = build_study(simulate_trials(load_preset("lian2022"), 1, 10, seed=3))
    results = analyze_study(study, "lian2022")
    return results, write_figures(results, tmp_path_factory.mktemp("figures"))


def test_every_plan_outcome_has_a_trajectory_panel(figures) -> None:
    results, figs = figures
    trajectories = [f for f in figs if f.key.endswith("trajectories")]
    drawn = [a for f in trajectories for a in f.panels]
    # Lian 2022 Figure 2 (A-G) and Figure 3 (A-F): 7 efficacy and 6 safety outcomes
    assert sorted(drawn) == sorted(results.meta["outcomes"])
    assert len(drawn) == 13 and "homa_cp_b" in drawn
    for f in trajectories:  # each panel is an axes group in the SVG, none hidden
        svg = f.svg.read_text()
        assert svg.count('id="axes_') == len(f.panels)
