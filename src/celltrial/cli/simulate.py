"""`celltrial simulate`: write a simulated study folder; `celltrial simulate check`: the
predictive check of a preset against its published trial; `celltrial simulate calibrate`: fit
a preset's free parameters to it.

Exit 0 done, 1 a published statistic outside the simulated range, 2 bad usage (unknown preset,
bad sizes, an --out folder already holding a study).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from celltrial.cli import app
from celltrial.cli.arms_check import print_arms_check
from celltrial.cli.consoles import stdout_console
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.cli.wording import counted, errors_and_warnings
from celltrial.data import validate, write_study
from celltrial.data.folder import STUDY_FILE
from celltrial.data.schema import TABLES
from celltrial.protocol import load_protocol
from celltrial.simulate.arms_check import has_arm_targets
from celltrial.simulate.fit import calibrate
from celltrial.simulate.predictive import (
    DIRECTION,
    MIN_SHARE,
    NOT_SIGNIFICANT,
    RANGE,
    SIGNIFICANT,
    predictive_check,
)
from celltrial.simulate.preset import Preset, PresetError, load_preset
from celltrial.simulate.study import build_study
from celltrial.simulate.trial import Design
from celltrial.simulate.virtual_trials import ScreeningShortfall, simulate_trials

simulate_app = typer.Typer(
    help="Simulate virtual studies and calibrate the simulator.", no_args_is_help=False
)
app.add_typer(simulate_app, name="simulate")


def _preset_or_exit(name: str) -> Preset:
    try:
        return load_preset(name)
    except PresetError as exc:
        Console(stderr=True).print(f"[red]bad preset:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None


@simulate_app.callback(invoke_without_command=True)
def simulate_command(
    ctx: typer.Context,
    preset: str = typer.Option("lian2022", "--preset", help="lian2022, chin2025 or a YAML path."),
    n: int | None = typer.Option(None, "--n", min=1, help="Patients (default: the preset's)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed, the same study."),
    out: Path | None = typer.Option(None, "--out", help="Study folder to write."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    force: bool = typer.Option(
        False, "--force", help="Replace the study already in --out (refused without it)."
    ),
) -> None:
    """Simulate one study from a preset and write it as a study folder."""
    if ctx.invoked_subcommand is not None:
        return
    err = Console(stderr=True)
    if out is None:
        err.print("[red]missing option --out DIR[/red] (the study folder to write)")
        raise typer.Exit(BAD_INPUT)
    if fmt not in ("csv", "parquet"):
        err.print(f"[red]--format must be csv or parquet, not {fmt!r}[/red]")
        raise typer.Exit(BAD_INPUT)
    held = _study_files(out)
    if held and not force:
        # a simulated study must never silently replace entered or earlier data (issue 10)
        err.print(
            f"[red]{out} already holds a study[/red] ({', '.join(held)}); "
            "choose another --out or add --force to replace it",
            soft_wrap=True,
        )
        raise typer.Exit(BAD_INPUT)
    p = _preset_or_exit(preset)
    n_patients = n or p.n_patients
    if p.n_long_follow_up is not None and n is not None:
        long_share = p.n_long_follow_up / p.n_patients
        p = p.model_copy(update={"n_long_follow_up": round(long_share * n_patients)})
    with _progress(err) as bar:
        design = Design.from_protocol(load_protocol(p.protocol), p)
        days = design.last_day - design.first_day + 1
        task = bar.add_task(f"simulating {p.id}, {n_patients} patients", total=days)
        try:
            sim = simulate_trials(p, 1, n_patients, seed, on_day=lambda d: bar.advance(task))
        except ScreeningShortfall as exc:
            err.print(f"[red]cannot enrol:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(BAD_INPUT) from None
        bar.update(task, description="building tables")
        study = build_study(sim, 0, seed)
        bar.update(task, description="writing")
        try:
            path = write_study(study, out, format=fmt)  # type: ignore[arg-type]
        except OSError as exc:
            err.print(f"[red]cannot write {out}:[/red] {exc}")
            raise typer.Exit(BAD_INPUT) from None
    findings = validate(study)
    typer.echo(
        f"wrote {path}: {counted(study.participants.height, 'participant')}, "
        f"{counted(study.measurements.height, 'measurement')}, "
        f"{counted(study.adverse_events.height, 'adverse event')} "
        f"({errors_and_warnings(findings.errors, findings.warnings)})"
    )
    raise typer.Exit(DONE if findings.ok else FINDINGS)


def _study_files(folder: Path) -> list[str]:
    """Files of a study folder (study.yaml or a table file) already in `folder`."""
    names = [STUDY_FILE] + [f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")]
    return [n for n in names if (folder / n).is_file()][:3]


@simulate_app.command("calibrate")
def calibrate_command(
    preset: str = typer.Option(..., "--preset", help="lian2022, chin2025 or a YAML path."),
    trials: int = typer.Option(500, "--trials", min=1, help="Virtual trials per evaluation."),
    seed: int = typer.Option(20220, "--seed", help="Common random numbers seed."),
    evaluations: int = typer.Option(60, "--evaluations", min=0, help="Nelder-Mead budget."),
    out: Path = typer.Option(Path("calibration"), "--out", help="Folder for the report."),
) -> None:
    """Fit the preset's free parameters to its published trial: Nelder-Mead on the predictive
    check's loss (each published number's distance from the median simulated trial in units of
    its 95 % range, and a penalty for published test outcomes too rare in the simulated trials),
    common random numbers; writes the check of the fitted preset and the fitted preset."""
    err = Console(stderr=True)
    p = _preset_or_exit(preset)
    with _progress(err) as bar:
        task = bar.add_task("calibrating", total=evaluations or None)
        fitted, report = calibrate(
            p,
            trials,
            seed,
            evaluations,
            on_evaluation=lambda i, loss: bar.update(
                task, advance=1, description=f"calibrating (loss {loss:.2f})"
            ),
        )
    out.mkdir(parents=True, exist_ok=True)
    report_path, fitted_path = out / f"{p.id}_calibration.csv", out / f"{p.id}_fitted.yaml"
    report.write_csv(report_path)
    fitted_path.write_text(yaml.safe_dump(fitted.model_dump(), sort_keys=False))
    _print_check(report, trials)
    typer.echo(f"report: {report_path}; fitted preset: {fitted_path}")
    raise typer.Exit(DONE if bool(report["ok"].all()) else FINDINGS)


OK_HELP = (
    f"Simulates --trials independent trials of the published size and computes every "
    f"published statistic in each. ok is yes when the published number lies within the "
    f"central {RANGE[1] - RANGE[0]:.0%} of the simulated trials' values (the range shown), "
    f"and, for a published test result (change from baseline significant or not, Wilcoxon "
    f"signed-rank p < 0.05), when at least {MIN_SHARE:.1%} of the simulated trials show it. "
    "A direction (Chin 2025 gives no numbers): ok when that share of trials has a median "
    "paired change of the reported sign. Exit 1 when any row is not ok."
)


@simulate_app.command(
    "check", help=f"Check the preset as shipped against its published trial. {OK_HELP}"
)
def check_command(
    preset: str = typer.Option(
        "lian2022", "--preset", help="lian2022, chin2025, zang2022 or a YAML path."
    ),
    trials: int = typer.Option(1000, "--trials", min=1, help="Simulated trials."),
    seed: int = typer.Option(20220, "--seed", help="Random seed."),
) -> None:
    p = _preset_or_exit(preset)
    if has_arm_targets(p):  # a randomized preset (zang2022): arm by arm
        raise typer.Exit(print_arms_check(p, trials, seed))
    report = predictive_check(p, trials, seed)
    _print_check(report, trials)
    raise typer.Exit(DONE if bool(report["ok"].all()) else FINDINGS)


def _print_check(report: pl.DataFrame, trials: int) -> None:
    table = Table("kind", show_lines=False)
    table.add_column("quantity", no_wrap=True, overflow="fold")  # never "dose_reduc…"
    for name in ("visit", "published", "simulated 95 % range", "median trial", "ok"):
        table.add_column(name, no_wrap=True)
    table.add_column("source", overflow="fold")
    for r in report.iter_rows(named=True):  # one row per published statistic (a few dozen)
        table.add_row(
            r["kind"],
            r["quantity"],
            r["visit"],
            *_published_and_simulated(r),
            "yes" if r["ok"] else "NO",
            r["source"],
        )
    failed = report.height - int(report["ok"].sum())
    table.caption = (
        f"{trials} simulated trials; {report.height - failed} of {report.height} ok. "
        f"ok: the published number inside the central {RANGE[1] - RANGE[0]:.0%} of the "
        f"simulated trials; a published test result shown by at least {MIN_SHARE:.1%} of them."
    )
    if (report["kind"] == DIRECTION).any():
        table.caption += (
            f" A direction (a summary that gives no number): ok when at least {MIN_SHARE:.1%} "
            "of the trials' median paired changes have the reported sign; its size is assumed."
        )
    stdout_console().print(table)


def _published_and_simulated(r: dict) -> tuple[str, str, str]:
    """Published value, simulated range (or share of trials) and median trial, as printed."""
    if r["kind"] in (SIGNIFICANT, NOT_SIGNIFICANT):
        published = "p < 0.05" if r["kind"] == SIGNIFICANT else "p >= 0.05"
        return published, f"shown by {r['share']:.1%} of trials", "-"
    if r["share"] is not None:  # an assumed direction: the share with the reported sign
        rng = f"{r['low']:.3g} to {r['high']:.3g}"
        return (
            f"{r['published']:.3g} (assumed)",
            f"{rng}; sign in {r['share']:.1%}",
            f"{r['median']:.3g}",
        )
    return f"{r['published']:.4g}", f"{r['low']:.4g} to {r['high']:.4g}", f"{r['median']:.4g}"


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
