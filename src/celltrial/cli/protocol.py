"""`celltrial protocol show|check` and `celltrial screen`: protocols and eligibility.

Exit status: 0 done; 1 a protocol file with errors (`check`); 2 a file or study that
cannot be read, or a protocol that cannot be used (one line, no traceback).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from celltrial.cli import app
from celltrial.cli.arguments import study_dir_argument
from celltrial.cli.consoles import stdout_console
from celltrial.cli.exits import BAD_INPUT, DONE, FINDINGS
from celltrial.cli.wording import counted
from celltrial.protocol import Protocol, ProtocolError, load_protocol
from celltrial.protocol.eligibility import screen
from celltrial.protocol.windows import unknown_visits

protocol_app = typer.Typer(
    name="protocol", help="Show or check a study protocol (YAML).", no_args_is_help=True
)
app.add_typer(protocol_app, name="protocol")

_STATUS_STYLE = {"met": "green", "not_met": "red", "unknown": "yellow"}


def _console() -> Console:
    return stdout_console()  # piped output keeps whole rows (cli/consoles.py)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(Text(message, style="red"), soft_wrap=True)
    return typer.Exit(BAD_INPUT)


def _load_or_exit(name_or_file: str) -> Protocol:
    try:
        return load_protocol(name_or_file)
    except ProtocolError as exc:
        first, more = exc.issues[0], len(exc.issues) - 1
        tail = f" ({more} more: run `celltrial protocol check {name_or_file}`)" if more else ""
        raise _fail(f"cannot use protocol: {first}{tail}") from None


@protocol_app.command("show")
def show(
    name_or_file: str = typer.Argument(
        ..., metavar="NAME_OR_FILE", help="A shipped name (lian2022) or a file."
    ),
) -> None:
    """Print a readable summary of a protocol."""
    p = _load_or_exit(name_or_file)
    out = _console()
    out.print(Text(f"{p.title}  [{p.id}]", style="bold"))
    out.print(f"{p.design.replace('_', ' ')}; {p.reference}")
    out.print(f"Day 0 = {p.anchor.replace('_', ' ')} date; run-in {p.run_in_days} days")
    extended = bool(p.extension_visits)  # the schedule column only where it tells something
    columns = ["visit", "label", "target day", "window (days)", "baseline"]
    visits = Table(*columns, *(["schedule"] if extended else []), title="Visits")
    for v in p.visits:
        window = f"{v.lower_day}..{v.upper_day} (-{v.window_before}/+{v.window_after})"
        cells = [v.id, v.label, str(v.target_day), window, "yes" if v.baseline else ""]
        if extended:
            cells.append("extension" if v.extension else "paper")
        visits.add_row(*cells)
    out.print(visits)
    if extended:
        out.print(
            "  extension: added to the paper's schedule by the centre; the registry schedules\n"
            "  it, the simulator does not generate it, the paper's outcomes are not analysed at it"
        )
    out.print(Text("Dosing", style="bold"))
    out.print(f"  {_dose_text(p)}")
    crit = Table("id", "kind", "decided by", "requirement", title="Eligibility")
    for c in p.eligibility:
        crit.add_row(c.id, c.kind, c.check, c.text)
    out.print(crit)
    lr = p.lot_release
    out.print(Text("Lot release", style="bold"))
    out.print(
        f"  {', '.join(m.upper() for m in lr.positive_markers)} >= {lr.positive_min_pct:g} %; "
        f"{', '.join(m.upper() for m in lr.negative_markers)} <= {lr.negative_max_pct:g} %; "
        f"viability >= {lr.viability_min_pct} %; sterility {lr.sterility}; "
        f"mycoplasma {lr.mycoplasma}; endotoxin <= {lr.endotoxin_max_eu_ml} EU/mL"
    )
    if p.titration is not None:
        t = p.titration
        out.print(Text("Titration", style="bold"))
        withdraw = (
            f"insulin withdrawn at <= {t.insulin_withdraw_u_per_kg:g} U/kg/day"
            if t.insulin_withdraw_u_per_kg is not None
            else "no insulin withdrawal rule"
        )
        out.print(
            f"  targets FPG {t.fpg_low:g}-{t.fpg_high:g}, 2-h PG {t.pg2h_low:g}-{t.pg2h_high:g}"
            f" mmol/L (inclusive); hypoglycaemia < {t.hypo_below:g}; {withdraw}"
        )
        d = t.deescalate_when_stable
        if d is not None:
            fall = (
                f" or FPG {d.fpg_fall_fraction:.0%} below the reference"
                if d.fpg_fall_fraction is not None
                else ""
            )
            out.print(
                f"  de-escalation when FPG < {d.fpg_below:g} and 2-h PG < {d.pg2h_below:g}"
                f"{fall}: insulin -{d.insulin_step_fraction:.0%}, "
                f"oral -{d.oral_step_fraction:.0%}"
            )
    outcomes = Table("outcome", "primary", "visits", "subgroup", title="Outcomes")
    for o in p.outcomes:
        name = o.analyte + (" (derived)" if o.derived else "")
        outcomes.add_row(
            name, "yes" if o.primary else "", ", ".join(o.visits) or "all", o.subgroup or ""
        )
    out.print(outcomes)
    if p.subgroups:
        groups = Table("subgroup", "label", "definition", title="Subgroups")
        for s in p.subgroups:
            groups.add_row(s.id, s.label, _subgroup_text(s))
        out.print(groups)
    raise typer.Exit(DONE)


def _dose_text(p: Protocol) -> str:
    d = p.dosing
    if d.mode == "weight_based":
        amount = f"{d.cells_per_kg:.3g} cells/kg (+-{d.tolerance_pct:g} %)"
    else:
        amount = f"flat {d.flat_min_cells:.3g} to {d.flat_max_cells:.3g} cells"
    days = ", ".join(str(x) for x in d.infusion_days)
    return f"{amount}, {d.route}, {d.n_infusions} infusion(s) on day {days}"


def _subgroup_text(s: object) -> str:
    kind = getattr(s, "kind", "")
    if kind == "analyte_threshold":
        return f"{s.analyte} {s.comparison} {s.threshold:g} {s.unit} at {s.visit}"  # type: ignore[attr-defined]
    if kind == "ckd_stage":
        return f"CKD stage {', '.join(s.stages)} at {s.visit}"  # type: ignore[attr-defined]
    return f"sex {s.sex}"  # type: ignore[attr-defined]


@protocol_app.command("check")
def check(
    file: Path = typer.Argument(..., metavar="FILE", help="A protocol YAML file."),
) -> None:
    """Validate a protocol file; print every error with its line; exit 1 if any."""
    if not file.is_file():
        raise _fail(f"{file}: no such file")
    try:
        p = load_protocol(file)
    except ProtocolError as exc:
        err = Console(stderr=True)
        for issue in exc.issues:
            err.print(Text(str(issue), style="red"), soft_wrap=True)
        raise typer.Exit(FINDINGS) from None
    typer.echo(
        f"{file}: OK ({p.id}: {len(p.visits)} visits, {len(p.eligibility)} criteria, "
        f"{len(p.outcomes)} outcomes)"
    )
    raise typer.Exit(DONE)


@app.command("screen")
def screen_command(
    study_dir: Path = study_dir_argument(),
    protocol: str | None = typer.Option(
        None, "--protocol", "-p", help="Protocol name or file; default: the one in study.yaml."
    ),
    show_all: bool = typer.Option(
        False, "--all", help="List every criterion, not only those not met."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print every criterion as JSON lines."),
) -> None:
    """Screen every participant against the protocol's eligibility criteria."""
    from celltrial.data import StudyReadError, read_study

    try:
        study = read_study(study_dir, check="skip")
    except StudyReadError as exc:
        raise _fail(f"cannot read study: {exc}") from None
    name = protocol or study.meta.protocol
    if name is None:
        raise _fail(f"{study_dir}: study.yaml names no protocol; pass --protocol NAME_OR_FILE")
    proto = _load_or_exit(name)
    result = screen(study, proto)
    typos = unknown_visits(study.measurements, proto)
    if as_json:
        for row in result.criteria.iter_rows(named=True):
            typer.echo(json.dumps(row, ensure_ascii=False, default=str))
        raise typer.Exit(DONE)
    out = _console()
    if result.unmatched:
        Console(stderr=True).print(
            Text(
                "warning: screening.csv answers criteria the protocol does not have: "
                + ", ".join(result.unmatched),
                style="yellow",
            ),
            soft_wrap=True,
        )
    for r in typos.iter_rows(named=True):
        Console(stderr=True).print(
            Text(
                f"warning: measurements.csv: visit_id {r['visit_id']!r} is not a visit of "
                f"protocol {proto.id} ({counted(r['n_values'], 'value')}; participants "
                f"{r['participants']}); known: {', '.join(v.id for v in proto.visits)}",
                style="yellow",
            ),
            soft_wrap=True,
        )
    summary = Table("participant", "eligible", "met", "not met", "unknown", title="Screening")
    for r in result.participants.iter_rows(named=True):
        flag = Text("yes", "green") if r["eligible"] else Text("no", "red")
        summary.add_row(
            r["participant_id"], flag, str(r["n_met"]), str(r["n_not_met"]), str(r["n_unknown"])
        )
    out.print(summary)
    shown = result.criteria if show_all else result.criteria.filter(pl.col("status") != "met")
    if shown.height:
        detail = Table("participant", "criterion", "kind", "status", "reason", title="Criteria")
        for r in shown.iter_rows(named=True):
            status = Text(r["status"], _STATUS_STYLE[r["status"]])
            detail.add_row(
                r["participant_id"], r["criterion_id"], r["kind"], status, r["reason"] or ""
            )
        out.print(detail)
    raise typer.Exit(DONE)
