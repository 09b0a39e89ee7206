"""The Python API refuses a study with errors and warns of warnings, as the CLI exits 1
(issue 10), unless told to proceed."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import polars as pl
import pytest

from celltrial.data import InvalidStudyError, StudyWarning, read_study, validate

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_a_study_with_errors_is_refused_with_its_findings():
    with pytest.raises(InvalidStudyError) as caught:
        read_study(EXAMPLES / "broken-study")
    findings = caught.value.findings
    expected = validate(read_study(EXAMPLES / "broken-study", check="skip"))
    assert findings.frame.equals(expected.frame)
    message = str(caught.value)
    first = message.splitlines()[1].strip()
    assert first.startswith("error: ")  # errors listed before warnings
    assert f"{expected.errors} errors, {expected.warnings} warnings; refused" in message
    assert "check='warn' proceeds anyway" in message


def test_warn_proceeds_with_one_warning_naming_the_counts():
    with pytest.warns(StudyWarning, match=r"errors, \d+ warnings") as record:
        study = read_study(EXAMPLES / "broken-study", check="warn")
    assert len(record) == 1
    assert study.participants.height > 0
    assert Path(record[0].filename).name == Path(__file__).name  # points at the caller


def test_a_valid_study_with_a_warning_warns_and_is_read():
    with pytest.warns(StudyWarning, match="0 errors, 1 warning:") as record:
        study = read_study(EXAMPLES / "small-study")
    assert "fcp = 7.0 pmol/L is outside the plausible range" in str(record[0].message)
    assert study.participants.height == 6


def test_a_clean_study_is_read_silently(tmp_path):
    folder = tmp_path / "clean"
    shutil.copytree(EXAMPLES / "small-study", folder)
    file = folder / "measurements.csv"
    m = pl.read_csv(file, infer_schema=False)
    # the one implausible value (fcp 7 pmol/L, row 122) taken out
    m.filter(pl.int_range(pl.len()) != 121).write_csv(file)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_study(folder)


def test_skip_checks_nothing_and_a_bad_check_is_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_study(EXAMPLES / "broken-study", check="skip")
    with pytest.raises(ValueError, match="check must be one of raise, warn, skip"):
        read_study(EXAMPLES / "small-study", check="strict")  # type: ignore[arg-type]


def test_validation_is_kept_on_the_study_and_redone_for_a_changed_one():
    study = read_study(EXAMPLES / "broken-study", check="skip")
    first = validate(study)
    assert validate(study) is first
    changed = study.with_table("participants", study.participants.head(0))
    assert validate(changed) is not first
    assert validate(changed).errors != first.errors
