"""`celltrial power DESIGN`: Monte-Carlo power and sample size of a randomized design.

Exit 0 done, 2 bad usage (unreadable design, bad --n).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from celltrial.cli import app
from celltrial.cli.consoles import stdout_console
from celltrial.cli.exits import BAD_INPUT, DONE
from celltrial.report.power_figure import power_figure
from celltrial.simulate.design import DesignError, load_design
from celltrial.simulate.power import PowerResult, power_curve


def parse_sizes(text: str) -> list[int]:
    """'20:200:20' (start:stop:step, stop included) or '40,80,120'; every n at least 4."""
    try:
        if ":" in text:
            start, stop, step = (int(x) for x in text.split(":"))
            sizes = list(range(start, stop + 1, step)) if step > 0 else []
        else:
            sizes = [int(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"--n {text!r}: expected START:STOP:STEP or N,N,...") from None
    if not sizes or min(sizes) < 4:
        raise ValueError(f"--n {text!r}: needs at least one size, each at least 4 patients")
    return sorted(set(sizes))


@app.command("power")
def power_command(
    design_file: Path = typer.Argument(
        ..., metavar="DESIGN", help="Design YAML (docs/designs.md)."
    ),
    sims: int = typer.Option(2000, "--sims", min=10, help="Simulated trials per sample size."),
    n: str | None = typer.Option(None, "--n", help="START:STOP:STEP or N,N,... (total n)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed, the same curve."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes simulating blocks."),
    out: Path = typer.Option(Path("power"), "--out", help="Folder for power.json, power.png."),
) -> None:
    """Simulate whole trials of the design at each sample size (the MSC effect on, then off
    for the type I error), analyse them with the design's primary analysis, and report power
    with its Monte-Carlo 95 % CI and the smallest n for 80 % and 90 % power."""
    err = Console(stderr=True)
    try:
        design = load_design(design_file)
        sizes = parse_sizes(n) if n else design.n.sizes
    except (DesignError, ValueError) as exc:
        err.print(f"[red]bad design:[/red] {exc}", soft_wrap=True, markup=True)
        raise typer.Exit(BAD_INPUT) from None
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress as bar:
        task = bar.add_task(f"simulating {design.id} (trials)", total=sims)
        result = power_curve(
            design, sims, sizes, seed, workers, on_block=lambda d: bar.update(task, completed=d)
        )
    out.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out / "power.json", out / "power.png"
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=2))
    tmp.replace(json_path)  # atomic: a reader never sees half a file
    power_figure(result, png_path)
    _print(result)
    typer.echo(f"wrote {json_path} and {png_path} ({result.seconds:.1f} s)")
    raise typer.Exit(DONE)


def _print(r: PowerResult) -> None:
    caption = (
        f"{r.sims} simulated trials per n ({r.draws} parameter draws), alpha {r.alpha:g} "
        "two-sided; CI: Monte-Carlo 95 % (Clopper-Pearson); type I error: the same trials "
        "with the MSC effect off. Smallest n for 80 % power: "
        f"{r.n_for['80%'] or 'not reached'}; for 90 %: {r.n_for['90%'] or 'not reached'}."
    )
    table = Table(title=f"{r.design}: {r.endpoint}", caption=caption)
    for name in ("n", "power", "95 % CI", "type I error", "95 % CI ", "mean effect"):
        table.add_column(name, justify="right", no_wrap=True)
    for k, size in enumerate(r.sizes):  # one row per sample size of the grid
        table.add_row(
            str(size),
            f"{r.power[k]:.3f}",
            f"{r.power_low[k]:.3f}-{r.power_high[k]:.3f}",
            f"{r.type1[k]:.3f}",
            f"{r.type1_low[k]:.3f}-{r.type1_high[k]:.3f}",
            f"{r.mean_effect[k]:+.3f}",
        )
    stdout_console().print(table)
