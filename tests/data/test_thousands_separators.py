"""Thousands separators in ';' files (European Excel: 1.234,5), issue 10. Decided: a number
whose dots can only group thousands (1.234,5; 1.234.567) is read with a warning; 1.234 is
read as 1234 when its column has decimal commas, as 1.234 when it has decimal points, and is
an error when nothing in the column tells (a factor of 1000 either way)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celltrial.data import read_study, validate

HEAD = "lot_id;cells_per_unit;volume_ml;release_status\n"


def _lots(tmp: Path, cells: list[str], volume: str = "100", blank_rows: int = 0) -> Path:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    (folder / "study.yaml").write_text("study_id: eu\n")
    body = "".join(f"L{i};{c};{volume};quarantine\n" for i, c in enumerate(cells))
    (folder / "lots.csv").write_text(HEAD + ";;;\n" * blank_rows + body)
    return folder


def _read(folder: Path) -> tuple[list, pl.DataFrame]:
    study = read_study(folder, check="skip")
    found = validate(study).frame.filter(pl.col("rule").str.contains("separated by ';'").not_())
    return study.lots["cells_per_unit"].to_list(), found


def test_grouped_numbers_are_read_with_one_warning(tmp_path):
    values, found = _read(_lots(tmp_path, ["1.234,5", "100.000.000", "7,5", "12"]))
    assert values == [1234.5, 100_000_000.0, 7.5, 12.0]
    assert found.select("severity", "row", "column").rows() == [("warning", None, "cells_per_unit")]
    assert found["rule"].item().startswith("3 numbers written with a decimal comma or '.'")
    assert "2 grouped" in found["rule"].item()


def test_one_group_beside_a_decimal_comma_is_thousands(tmp_path):
    values, found = _read(_lots(tmp_path, ["1.500", "2,5"]))
    assert values == [1500.0, 2.5]
    assert found["severity"].to_list() == ["warning"]


def test_one_group_beside_a_decimal_point_is_a_decimal(tmp_path):
    values, found = _read(_lots(tmp_path, ["1.500", "2.25"]))
    assert values == [1.5, 2.25]
    assert found.height == 0  # as before: points read as points


def test_one_group_alone_is_an_error_and_not_read(tmp_path):
    values, found = _read(_lots(tmp_path, ["12", "1.234", "7"], blank_rows=2))
    assert values == [12.0, None, 7.0]
    errors = found.filter(pl.col("severity") == "error")
    # rows 1-2 are empty (skipped, numbering kept): the ambiguous cell is row 4
    assert errors.select("row", "column", "value").rows() == [(4, "cells_per_unit", "1.234")]
    assert errors["rule"].item() == (
        "ambiguous in a ';' file (decimal comma): 1.234 is 1234 with a thousands separator or "
        "1.234 with a decimal point, and nothing else in the column tells; write 1234 or "
        "1,234; not read"
    )


def test_a_leading_zero_is_never_a_group(tmp_path):
    values, found = _read(_lots(tmp_path, ["0.125"]))
    assert values == [0.125] and found.height == 0


def _european(x: float) -> str:
    """x with '.' grouping thousands and a decimal comma, as German Excel shows it."""
    return f"{x:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


@given(xs=st.lists(st.integers(100_000, 10**11), min_size=1, max_size=8))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_grouped_number_is_read_exactly(tmp_path, xs):
    numbers = [x / 100 for x in xs]  # two decimals, at least 1.000,00
    values, found = _read(_lots(tmp_path, [_european(x) for x in numbers]))
    assert values == pytest.approx(numbers, rel=1e-15)
    assert found["severity"].to_list() == ["warning"]
