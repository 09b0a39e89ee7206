"""`celltrial demo`: the main job on the embedded defaults. Simulates both source studies,
validates them, analyses them and writes every report under one folder, printing where."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from celltrial.analysis import analyze_study
from celltrial.cli import app
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.cli.wording import counted, errors_and_warnings
from celltrial.data import write_study
from celltrial.protocol import load_protocol
from celltrial.protocol.conformance import study_findings
from celltrial.report import write_outputs
from celltrial.simulate.preset import load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.virtual_trials import simulate_trials

DEMO_PRESETS = ("lian2022", "chin2025")  # the two source studies (DESIGN.md)


@app.command("demo")
def demo_command(
    out: Path = typer.Option(Path("celltrial-demo"), "--out", help="Folder for everything."),
    seed: int = typer.Option(2025, "--seed", help="Random seed: the same seed, the same demo."),
) -> None:
    """Simulate both source studies, validate and analyse them, and write their reports."""
    console = Console(soft_wrap=True)  # one line per step, also when piped
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        Console(stderr=True).print(f"[red]cannot write to {out}:[/red] {exc.strerror or exc}")
        raise typer.Exit(BAD_INPUT) from None
    clean = True
    for name in DEMO_PRESETS:
        preset = load_preset(name)
        protocol = load_protocol(preset.protocol)
        study_dir, analysis_dir = out / name / "study", out / name / "analysis"
        with console.status(f"{name}: simulating {preset.n_patients} patients ..."):
            sim = simulate_trials(preset, 1, preset.n_patients, seed, protocol=protocol)
            study = build_study(sim, 0, seed)
            write_study(study, study_dir)
        findings = study_findings(study, protocol)  # what `celltrial validate` finds
        clean = clean and findings.ok
        console.print(
            f"{name}: study {study_dir} ({counted(study.participants.height, 'participant')}, "
            f"{counted(study.measurements.height, 'measurement')}; "
            f"{errors_and_warnings(findings.errors, findings.warnings)})"
        )
        with console.status(f"{name}: analysing ..."):
            results = analyze_study(study, protocol, check="skip")  # counted above
        with console.status(f"{name}: writing tables, figures and report ..."):
            paths = write_outputs(results, analysis_dir)
        console.print(f"{name}: report {paths.html}")
    console.print(f"done: everything is under {out.resolve()}")
    raise typer.Exit(DONE if clean else FINDINGS)
