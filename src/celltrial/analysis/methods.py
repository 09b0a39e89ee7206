"""The statistical methods as a journal states them: one sentence per method, built from the
constants the analysis itself uses (so the text cannot drift from the computation)."""

from __future__ import annotations

import platform
from importlib import metadata

from celltrial.analysis.descriptive import QUANTILE_DEFINITION
from celltrial.analysis.paired import CONF_LEVEL
from celltrial.analysis.ranking import DEFAULT_RANK_TESTS, EXACT, EXACT_MAX_N, RankTests
from celltrial.clinical.derivations import AGE_DEFINITION, WEIGHT_ON_DATE
from celltrial.clinical.dose_change import HALF, TENTH
from celltrial.clinical.drugs import INSULIN_DDD_U

# Names as the projects spell them, in the order the software sentence lists them.
SOFTWARE = {
    "python": "Python",
    "celltrial": "CellTrial",
    "polars": "Polars",
    "numpy": "NumPy",
    "scipy": "SciPy",
    "statsmodels": "statsmodels",
    "matplotlib": "Matplotlib",
}


def versions() -> dict[str, str]:
    """Version of Python and of each package the analysis ran with ("unknown" if missing)."""
    out = {"python": platform.python_version()}
    for name in list(SOFTWARE)[1:]:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def _rank_p_values(rank_tests: RankTests) -> str:
    """How both rank tests got their P-values, as a clause."""
    asymptotic = "the normal approximation with tie correction and without continuity correction"
    if rank_tests == EXACT:
        return (
            f"the exact null distribution when at most {EXACT_MAX_N} values were ranked (non-zero "
            f"differences, or both groups together) without ties, and otherwise {asymptotic}"
        )
    return f"{asymptotic} (as the asymptotic significance of SPSS 25), whatever the sample size"


def methods(rank_tests: RankTests = DEFAULT_RANK_TESTS) -> dict[str, str]:
    """One complete sentence per method, keyed by what it covers; `rank_tests` is the
    convention the Wilcoxon and Mann-Whitney P-values were computed under."""
    ci = f"{100 * CONF_LEVEL:g} %"
    p_rank = _rank_p_values(rank_tests)
    return {
        "descriptive": (
            "Continuous variables are summarised as mean ± standard deviation (SD) and median "
            "(first quartile, third quartile)."
        ),
        "quantiles": QUANTILE_DEFINITION,
        "wilcoxon": (
            "Each follow-up visit was compared with baseline by the Wilcoxon signed-rank test "
            f"with zero differences excluded, with P-values from {p_rank}; differences were "
            "rounded to the precision at which each variable is reported before ranking, so that "
            "equal recorded changes tie."
        ),
        "hodges_lehmann": (
            "The median change is the Hodges-Lehmann estimate (median of the Walsh averages), "
            f"with a {ci} confidence interval (CI) given by the Walsh averages at the critical "
            "ranks of the same signed-rank test."
        ),
        "paired_t": (
            f"The paired t-test, with the {ci} CI of the mean change, is reported alongside."
        ),
        "multiplicity": (
            "P-values were adjusted for multiple comparisons by Holm's step-down method within "
            "each outcome (and subgroup) over its scheduled follow-up visits."
        ),
        "proportions": f"Proportions are given with Wilson score {ci} CIs.",
        "two_groups": (
            "Subgroups, and completers against non-completers, were compared by the "
            "Mann-Whitney U test (values rounded likewise, P-values by the same convention as the "
            "signed-rank test) and, for sex, by Fisher's exact test."
        ),
        "mixed_model": (
            "Change from baseline was also estimated by a linear mixed model with visit as a "
            "fixed effect and a random intercept per participant, fitted by restricted maximum "
            "likelihood (REML) to all observed values, not only those of completers; each "
            "change was tested by its t statistic with Satterthwaite's degrees of freedom (the "
            "residual degrees of freedom when the between-participant variance was estimated "
            f"as zero), and its {ci} CI taken from the same t distribution."
        ),
        "age": (
            f"Age is in {AGE_DEFINITION}: at enrolment in the baseline table and subgroups, "
            "at the sample for eGFR."
        ),
        "medication": _medication_sentence(),
        "significance": "All tests were two-sided; P < 0.05 was considered significant.",
    }


def _medication_sentence() -> str:
    """The combined dose endpoint, its categories and the separate insulin and non-insulin
    doses, from the constants of celltrial.clinical.dose_change and .drugs."""
    half, tenth = f"{100 * HALF:g} %", f"{100 * TENTH:g} %"
    return (
        "The total hypoglycaemic-agent dose was the sum over all agents taken of the daily "
        "dose divided by the agent's WHO defined daily dose (ATC/DDD Index; insulin "
        f"{INSULIN_DDD_U:g} U); a prescription counted from its start date to its end date "
        "inclusive. Its change from baseline was classed as discontinued, reduced by at least "
        f"{half} (exactly {half} included), reduced by {tenth} to less than {half}, unchanged "
        f"(less than {tenth} either way) or increased by at least {tenth}. Insulin (ATC A10A) "
        f"is also reported in U/kg/day with, as body weight on a visit date, {WEIGHT_ON_DATE}; "
        "the non-insulin agents (ATC A10B) as the sum of their DDD fractions."
    )
