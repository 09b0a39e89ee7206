"""examples/bad-protocol.yaml: `celltrial protocol check` reports its three mistakes, each
with file:line and key, and exits 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from celltrial.cli import _register, app
from celltrial.protocol import ProtocolError, load_protocol, parse_protocol

BAD = Path(__file__).parents[2] / "examples/bad-protocol.yaml"
TEXT = BAD.read_text()


def _line_of(needle: str) -> int:
    """1-based line of the first line containing `needle` (counted independently)."""
    return next(i for i, line in enumerate(TEXT.splitlines(), 1) if needle in line)


def test_the_three_mistakes_have_their_lines_and_keys() -> None:
    with pytest.raises(ProtocolError) as info:
        load_protocol(BAD)
    found = [(i.line, i.key) for i in info.value.issues]
    assert found == [
        (1, "design"),  # missing at the top level: the file itself, line 1
        (_line_of("    window_before: -3"), "visits[1].window_before"),
        # the analyte field's own validator: the error names the field and its line
        (_line_of("- analyte: hbaic"), "outcomes[1].analyte"),
    ]
    messages = [i.message for i in info.value.issues]
    assert "missing required key 'design'" in messages[0]
    assert "greater than or equal to 0" in messages[1]
    assert "unknown analyte 'hbaic'" in messages[2]


def test_the_check_command_prints_file_line_key_and_exits_1() -> None:
    _register()
    result = CliRunner().invoke(app, ["protocol", "check", str(BAD)])
    assert result.exit_code == 1
    assert f"{BAD}:1: key design: missing required key 'design'" in result.output
    line = _line_of("    window_before: -3")
    assert f"{BAD}:{line}: key visits[1].window_before:" in result.output


def test_the_example_loads_once_its_mistakes_are_fixed() -> None:
    # proves there are exactly these three mistakes and nothing else wrong in the file
    fixed = (
        TEXT.replace("anchor: first_infusion", "design: single_arm_trial\nanchor: first_infusion")
        .replace("window_before: -3", "window_before: 3")
        .replace("analyte: hbaic", "analyte: hba1c")
    )
    assert [v.id for v in parse_protocol(fixed).visits] == ["d0", "d14"]
