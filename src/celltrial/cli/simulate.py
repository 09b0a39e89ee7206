"""`celltrial simulate`: write a simulated study folder; `celltrial simulate calibrate`: fit a
preset's free parameters and write the calibration report.

Exit 0 done, 1 calibration acceptance not met, 2 bad usage (unknown preset, bad sizes).
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
from celltrial.protocol import load_protocol
from celltrial.simulate.arms_check import has_arm_targets
from celltrial.simulate.calibrate import calibrate, evaluate
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


@simulate_app.command("calibrate")
def calibrate_command(
    preset: str = typer.Option(..., "--preset", help="lian2022, chin2025 or a YAML path."),
    trials: int = typer.Option(200, "--trials", min=1, help="Virtual trials per evaluation."),
    seed: int = typer.Option(20220, "--seed", help="Common random numbers seed."),
    evaluations: int = typer.Option(60, "--evaluations", min=0, help="Nelder-Mead budget."),
    out: Path = typer.Option(Path("calibration"), "--out", help="Folder for the report."),
) -> None:
    """Fit the preset's free parameters to its targets (simulated method of moments, common
    random numbers) and write the report (target beside simulated value) and fitted preset."""
    err = Console(stderr=True)
    p = _preset_or_exit(preset)
    with _progress(err) as bar:
        task = bar.add_task("calibrating", total=evaluations or None)
        fitted, report = calibrate(
            p,
            trials,
            p.n_patients,
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
    _print_report(report)
    accepted = report["acceptance"].drop_nulls()
    typer.echo(f"report: {report_path}; fitted preset: {fitted_path}")
    raise typer.Exit(DONE if bool(accepted.all()) else FINDINGS)


OK_HELP = (
    "ok is yes when the simulated value lies in the accepted range: a baseline mean within "
    "target +/- 0.5 SD, a median within the reported Q1-Q3, a proportion within the exact "
    "(Clopper-Pearson) 95 % interval of the reported count, a direction of the reported "
    "sign; '-' = not checked (counts per trial)."
)
# calibrate.report gives counts no acceptance: they are fitted, not tested (see caption)
NOT_CHECKED = (
    "ok '-' = not checked: counts per trial (a few events in one published trial) enter "
    "the fit but have no accepted range."
)


@simulate_app.command(
    "check", help=f"Print the calibration report of the preset as shipped (no fitting). {OK_HELP}"
)
def check_command(
    preset: str = typer.Option(
        ..., "--preset", help="lian2022, chin2025, zang2022 or a YAML path."
    ),
    trials: int = typer.Option(200, "--trials", min=1),
    seed: int = typer.Option(20220, "--seed"),
) -> None:
    p = _preset_or_exit(preset)
    if has_arm_targets(p):  # a randomized preset (zang2022): arm by arm
        raise typer.Exit(print_arms_check(p, trials, seed))
    report = evaluate(p, trials, p.n_patients, seed)
    _print_report(report)
    raise typer.Exit(DONE if bool(report["acceptance"].drop_nulls().all()) else FINDINGS)


def _print_report(report: pl.DataFrame) -> None:
    table = Table("kind", show_lines=False)
    table.add_column("quantity", no_wrap=True, overflow="fold")  # never "dose_reduc…"
    for name in ("visit", "target", "accepted range", "simulated", "ok"):
        table.add_column(name, no_wrap=True)
    table.add_column("source", overflow="fold")
    for r in report.iter_rows(named=True):  # one row per calibration target (a few dozen)
        ok = "-" if r["acceptance"] is None else ("yes" if r["acceptance"] else "NO")
        table.add_row(
            r["kind"],
            r["quantity"],
            r["visit"],
            f"{r['target']:.3g}",
            _accepted_range(r),
            f"{r['simulated']:.3g}",
            ok,
            r["source"],
        )
    if report["acceptance"].is_null().any():
        table.caption = NOT_CHECKED
    stdout_console().print(table)


def _accepted_range(r: dict) -> str:
    """The interval ok tests (calibrate.report), so a reader sees why a value passes."""
    if r["target_low"] is not None and r["target_high"] is not None:
        return f"{r['target_low']:.3g} to {r['target_high']:.3g}"
    if r["kind"] == "direction":  # assumed_change carries the reported direction's sign
        return "below 0" if r["target"] < 0 else "above 0"
    return "-"


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
