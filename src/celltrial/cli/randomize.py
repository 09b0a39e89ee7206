"""`celltrial randomize DESIGN`: write a stratified permuted-block randomization list with its
generation parameters and SHA-256 checksum, or verify one (`--verify LIST.csv`).

Exit 0 done or verified, 1 the list does not verify, 2 bad usage (unreadable design, bad --n).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from celltrial.cli import app
from celltrial.cli.consoles import stdout_console
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.simulate.design import DesignError, load_design
from celltrial.simulate.randomization import sidecar_path, verify_list, write_list


@app.command("randomize")
def randomize_command(
    design_file: Path = typer.Argument(
        ..., metavar="DESIGN", help="Design YAML (docs/designs.md)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the list (keep it secret)."),
    n: int | None = typer.Option(None, "--n", help="Allocations per stratum (at least)."),
    out: Path | None = typer.Option(None, "--out", help="The list to write (CSV)."),
    verify: Path | None = typer.Option(None, "--verify", help="A list to verify instead."),
) -> None:
    """Stratified permuted blocks of random size (strata and block sizes from the design);
    LIST.csv.json beside the list records the seed, n, design checksum and the list's SHA-256,
    so the list can be regenerated and checked with --verify."""
    err = Console(stderr=True)
    try:
        design = load_design(design_file)
        design_text = design_file.read_bytes()
    except DesignError as exc:
        err.print(f"[red]bad design:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(BAD_INPUT) from None
    if verify is not None:
        problems = verify_list(design, design_text, verify)
        for p in problems:
            err.print(f"[red]not verified:[/red] {p}", soft_wrap=True)
        if not problems:
            typer.echo(f"verified {verify}: checksum matches and the list regenerates exactly")
        raise typer.Exit(FINDINGS if problems else DONE)
    if seed is None or n is None or out is None or n < 1:
        err.print("[red]--seed S, --n N (at least 1) and --out LIST.csv are needed[/red]")
        raise typer.Exit(BAD_INPUT)
    try:
        side = write_list(design, design_text, seed, n, out)
    except OSError as exc:
        err.print(f"[red]cannot write {out}:[/red] {exc.strerror or exc}")
        raise typer.Exit(BAD_INPUT) from None
    _print_summary(pl.read_csv(out), side.block_multiples, len(side.allocation_cycle))
    typer.echo(f"wrote {out} ({side.rows} rows) and {sidecar_path(out)}")
    typer.echo(f"SHA-256 {side.list_sha256}")
    raise typer.Exit(DONE)


def _print_summary(frame: pl.DataFrame, multiples: list[int], cycle: int) -> None:
    counts = (
        frame.group_by("stratum", "arm", maintain_order=True)
        .len()
        .pivot(on="arm", index="stratum", values="len")
    )
    blocks = frame.group_by("stratum", maintain_order=True).agg(pl.col("block").max())
    summary = counts.join(blocks, on="stratum")
    sizes = ", ".join(str(m * cycle) for m in multiples)
    table = Table(caption=f"block sizes drawn from {sizes}")
    for c in summary.columns:
        table.add_column(
            "blocks" if c == "block" else c, justify="left" if c == "stratum" else "right"
        )
    for row in summary.iter_rows():  # one row per stratum
        table.add_row(*(str(v) for v in row))
    stdout_console().print(table)
