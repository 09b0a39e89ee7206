"""Counts in messages take the singular for exactly one."""

from __future__ import annotations

import pytest

from celltrial.cli.wording import counted, errors_and_warnings


@pytest.mark.parametrize(("n", "expected"), [(0, "0 errors"), (1, "1 error"), (2, "2 errors")])
def test_counted(n, expected):
    assert counted(n, "error") == expected


def test_irregular_plural_and_pair():
    assert counted(1, "criterion", "criteria") == "1 criterion"
    assert counted(3, "criterion", "criteria") == "3 criteria"
    assert errors_and_warnings(1, 1) == "1 error, 1 warning"
    assert errors_and_warnings(0, 2) == "0 errors, 2 warnings"
