"""`celltrial expect`: the response to expect for one candidate patient under a calibrated
preset (celltrial.simulate.expect). Exit 0 done, 2 bad usage (unknown preset, bad value)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from rich.table import Table

from celltrial.cli import app
from celltrial.cli.consoles import stdout_console
from celltrial.cli.exits import BAD_INPUT, DONE
from celltrial.simulate.expect import Candidate, Expectation, ExpectError, expected_response
from celltrial.simulate.preset import PresetError, load_preset


@app.command("expect")
def expect_command(
    preset: str = typer.Option(..., "--preset", help="zang2022, lian2022, chin2025 or a path."),
    age: float | None = typer.Option(None, "--age", help="Years."),
    sex: str | None = typer.Option(None, "--sex", help="M or F."),
    hba1c: float | None = typer.Option(None, "--hba1c", help="Baseline HbA1c, %."),
    fpg: float | None = typer.Option(None, "--fpg", help="Fasting plasma glucose, mmol/L."),
    fcp: float | None = typer.Option(None, "--fcp", help="Fasting C-peptide, pmol/L."),
    insulin: float | None = typer.Option(
        None, "--insulin-u-per-kg", help="Daily insulin, U/kg/day (0: none)."
    ),
    drug: list[str] = typer.Option([], "--drug", help="Oral drug taken (repeat), e.g. metformin."),
    n_virtual: int = typer.Option(100000, "--n-virtual", min=1000, help="Virtual patients."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Distribution of HbA1c at 3, 6 and 12 months after UC-MSC, the chance of HbA1c < 7 % and
    of a > 50 % reduction of the glucose-lowering drugs, for virtual patients resembling the
    values given (rejection on sex, insulin use and drugs; importance weights on the rest)."""
    err = Console(stderr=True)
    try:
        p = load_preset(preset)
        candidate = Candidate(age, sex, hba1c, fpg, fcp, insulin, list(drug))
        result = expected_response(p, candidate, n_virtual, seed)
    except (PresetError, ExpectError) as exc:
        err.print(f"[red]cannot expect:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None
    if as_json:
        typer.echo(json.dumps(asdict(result), indent=2))
    else:
        _print(result)
    raise typer.Exit(DONE)


def _print(r: Expectation) -> None:
    table = Table(
        title=f"Expected HbA1c after UC-MSC ({r.preset}), baseline {r.baseline_hba1c:.2f} %"
    )
    for name in ("month", "mean %", "median %", "50 % range", "95 % range"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("P(HbA1c < 7 %)", justify="right", no_wrap=True)
    table.add_column("P(dose -50 %)", justify="right", no_wrap=True)
    for m in r.months:  # three rows: 3, 6, 12 months
        q = m.quantiles
        table.add_row(
            str(m.month),
            f"{m.mean:.2f}",
            f"{q['50%']:.2f}",
            f"{q['25%']:.2f}-{q['75%']:.2f}",
            f"{q['2.5%']:.2f}-{q['97.5%']:.2f}",
            f"{m.p_below_7:.2f} ({m.p_below_7_ci[0]:.2f}-{m.p_below_7_ci[1]:.2f})",
            f"{m.p_dose_halved:.2f} ({m.p_dose_halved_ci[0]:.2f}-{m.p_dose_halved_ci[1]:.2f})",
        )
    table.caption = (
        f"{r.method}; {r.n_matching} of {r.n_virtual} virtual patients match, effective "
        f"sample {r.ess:.0f}. Ranges: the look-alikes' outcomes (prediction intervals); "
        "P(...) with its Monte-Carlo 95 % interval. Dose: all glucose-lowering drugs in WHO "
        "DDD units, reduced by more than half from baseline."
    )
    out = stdout_console()
    out.print(table)
    for w in r.warnings:
        out.print(f"warning: {w}")
    out.print(f"caveat: {r.caveat}")
