import numpy as np
import pytest

from celltrial.clinical import (
    DRUGS,
    DoseUnitError,
    UnknownDrugError,
    fraction_of_ddd,
    fraction_of_max_dose,
    get_drug,
)


def test_ddd_values_from_the_research_table():
    # WHOCC DDDs as tabled in simulation-models.md section 4.5
    assert get_drug("metformin").ddd == 2000  # 2 g
    assert get_drug("A10BK03").ddd == 17.5  # empagliflozin
    assert get_drug("glyburide").inn == "glibenclamide"
    assert get_drug("Insulin Glargine").ddd == 40 and get_drug("insulin glargine").ddd_unit == "U"


def test_fraction_of_ddd_by_hand():
    assert fraction_of_ddd("metformin", 1000.0, "mg") == pytest.approx(0.5)  # 1000/2000
    assert fraction_of_ddd("metformin", 1.5, "g") == pytest.approx(0.75)  # 1500/2000
    assert fraction_of_ddd("liraglutide", 1.2, "mg") == pytest.approx(0.8)  # 1.2/1.5
    assert fraction_of_ddd("exenatide", 20.0, "ug") == pytest.approx(20 / 15)  # 20 ug / 15 ug


def test_fraction_of_ddd_vectorized_over_drugs_and_units():
    out = fraction_of_ddd(
        np.array(["insulin glargine", "A10BK03", "metformin", "insulin glargine"]),
        np.array([20.0, 25.0, 2550.0, 60.0]),
        np.array(["U", "mg", "mg", "[IU]"]),
    )
    # 20/40, 25/17.5, 2550/2000, 60/40
    np.testing.assert_allclose(out, [0.5, 25 / 17.5, 1.275, 1.5])


def test_fraction_of_max_dose():
    assert fraction_of_max_dose("glimepiride", 4.0, "mg") == pytest.approx(0.5)  # 4/8
    assert np.isnan(fraction_of_max_dose("insulin aspart", 10.0, "U"))


def test_unknown_drug_and_unit_are_clear_errors():
    with pytest.raises(UnknownDrugError, match="'aspirin'"):
        fraction_of_ddd("aspirin", 100.0, "mg")
    with pytest.raises(DoseUnitError, match="'mg' does not fit insulin glargine"):
        fraction_of_ddd("insulin glargine", 10.0, "mg")


def test_catalogue_is_consistent():
    classes = {"metformin", "sulfonylurea", "glinide", "dpp4", "glp1", "sglt2", "tzd", "agi"}
    assert classes | {"insulin"} == {d.drug_class for d in DRUGS.values()}
    for d in DRUGS.values():
        assert d.atc.startswith("A10A" if d.drug_class == "insulin" else "A10B"), d
        if d.min_daily is not None:
            assert 0 < d.min_daily <= d.max_daily, d


def test_one_insulin_definition_across_catalogue_code_and_name() -> None:
    # ATC A10A is insulin (WHO ATC/DDD Index); the catalogue's class agrees for every entry,
    # and a row without a code is judged by the catalogue's code for its name.
    import polars as pl

    from celltrial.clinical.drugs import DRUGS, insulin_expr, is_insulin

    for d in DRUGS.values():
        assert is_insulin(d.atc) == (d.drug_class == "insulin"), d.inn
    rows = pl.DataFrame(
        {
            "drug": ["Insulin Glargine", "NPH insulin", "metformin", "insulin zinc", "x"],
            "atc_code": [None, None, None, None, " a10ab01 "],
        }
    )
    got = rows.select(insulin_expr().alias("i"))["i"].to_list()
    # an unknown name without a code is not counted as insulin (nor in the DDD total)
    assert got == [True, True, False, False, True]
