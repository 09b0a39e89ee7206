"""`celltrial registry import` refuses a broken study with validate's findings and writes
nothing; the registry commands are registered."""

from __future__ import annotations

from typer.testing import CliRunner

from celltrial.cli import _register, app

runner = CliRunner()
_register()


def test_import_of_a_broken_study_writes_nothing(tmp_path):
    broken = tmp_path.parent / "broken-copy"
    import shutil

    from conftest import BROKEN_STUDY

    shutil.copytree(BROKEN_STUDY, broken, dirs_exist_ok=True)
    data = tmp_path / "registry"
    result = runner.invoke(app, ["registry", "import", str(broken), "--data-dir", str(data)])
    assert result.exit_code == 1
    # the findings as `celltrial validate` prints them, then what happened
    validate = runner.invoke(app, ["validate", str(broken), "--all"])
    assert validate.exit_code == 1
    findings = validate.output.rsplit("\n", 2)[0]  # all but the verdict line
    assert result.output.startswith(findings)
    assert "nothing was written to the registry" in result.output
    assert not data.exists()  # not even a database file


def test_registry_commands_have_help():
    for command in (
        ["registry", "import"],
        ["registry", "export"],
        ["serve"],
        ["user", "add"],
        ["user", "list"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "--data-dir" in result.output
