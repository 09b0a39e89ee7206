"""`celltrial simulate check --preset zang2022`: the simulated arms of a randomized preset
beside the published ones (celltrial.simulate.arms_check), as a table."""

from __future__ import annotations

from rich.table import Table

from celltrial.cli.consoles import stdout_console
from celltrial.cli.exits import DONE, FINDINGS
from celltrial.simulate.arms_check import check_arms
from celltrial.simulate.preset import Preset

ARMS_CAPTION = (
    "ok is yes when the simulated value lies in the accepted range: a mean within the 95 % "
    "interval of the published mean (mean +- 1.96 SD/sqrt(n)), a mean insulin reduction within "
    "the stated tolerance, a responder share within the exact (Clopper-Pearson) 95 % interval "
    "of the published count. Responder: HbA1c < 7.0 % and daily insulin reduced by >= 50 %."
)


def print_arms_check(preset: Preset, trials: int, seed: int) -> int:
    """Print the arm-by-arm check; the exit status (0 all accepted, 1 otherwise)."""
    report = check_arms(preset, trials, seed)
    table = Table("arm", "kind", "quantity", "visit", caption=ARMS_CAPTION)
    for name in ("published", "accepted range", "simulated", "ok"):
        table.add_column(name, no_wrap=True)
    table.add_column("source", overflow="fold")
    for r in report.iter_rows(named=True):  # one row per published arm summary (eight)
        table.add_row(
            r["arm"],
            r["kind"],
            r["quantity"],
            r["visit"],
            f"{r['target']:.3g}",
            f"{r['target_low']:.3g} to {r['target_high']:.3g}",
            f"{r['simulated']:.3g}",
            "yes" if r["acceptance"] else "NO",
            r["source"],
        )
    stdout_console().print(table)
    return DONE if bool(report["acceptance"].all()) else FINDINGS
